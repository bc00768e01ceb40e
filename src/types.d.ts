declare module "*.sql" {
  const text: string;
  export default text;
}
// Files embedded in the binary with `with { type: "file" }` import as their path.
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const path: string;
  export default path;
}
declare module "swagger-ui-dist/swagger-ui.css" {
  const path: string;
  export default path;
}
declare module "htmx.org/dist/htmx.min.js" {
  const path: string;
  export default path;
}
declare module "*/assets/app.css" {
  const path: string;
  export default path;
}
declare module "*/assets/favicon.svg" {
  const path: string;
  export default path;
}
declare module "*/admin/admin.css" {
  const path: string;
  export default path;
}
declare module "vazirmatn/fonts/webfonts/Vazirmatn[wght].woff2" {
  const path: string;
  export default path;
}
declare module "vazirmatn/OFL.txt" {
  const path: string;
  export default path;
}
