/** Image tagging (Imagga in production): tags with confidence 0-100. */
export interface Tag {
  name: string;
  confidence: number;
}

export interface ImageTagger {
  tag(bytes: Uint8Array, contentType: string): Promise<Tag[]>;
}
