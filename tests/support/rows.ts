/**
 * Reads the tests make about an ad's e-mails and history, straight from the tables (the service
 * itself reads them through the dashboard's `AdminRepository.detail`).
 */
import type { Sql } from "../../src/database/database";
import type { EmailRow } from "../../src/domain/ad";

export interface EventRow {
  from_state: string | null;
  to_state: string;
  actor: string;
  reason: string | null;
  created_at: Date;
}

/** E-mails about one ad, oldest first. */
export function emailsOf(sql: Sql, adId: string): Promise<EmailRow[]> {
  return sql<EmailRow[]>`select * from emails where ad_id = ${adId} order by id`;
}

/** The history of one ad, oldest first. */
export function eventsOf(sql: Sql, adId: string): Promise<EventRow[]> {
  return sql<EventRow[]>`select from_state, to_state, actor, reason, created_at from ad_events where ad_id = ${adId} order by id`;
}
