/** The API's paginated lists (`?limit=&offset=`, DRF's LimitOffsetPagination) and walking them. */

import { data } from "./client";

export interface Page<T> {
  count: number;
  next?: string | null;
  previous?: string | null;
  results: T[];
}

/** The server's `next` link is absolute; the client wants the path under /api/v1. */
export function apiPathOf(link: string): string {
  const url = new URL(link, "http://relative.invalid");
  return `${url.pathname.replace(/^\/api\/v1/, "")}${url.search}`;
}

/** Every row of a paginated list, following `next` (bounded, so a bug cannot loop forever). */
export async function allPages<T>(path: string, maxPages: number): Promise<T[]> {
  const rows: T[] = [];
  let next: string | null | undefined = path;
  for (let page = 0; next && page < maxPages; page += 1) {
    const answer: Page<T> = await data<Page<T>>("GET", next);
    rows.push(...answer.results);
    next = answer.next ? apiPathOf(answer.next) : null;
  }
  return rows;
}
