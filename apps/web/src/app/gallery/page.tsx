import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@atelier/db";
import { galleryQuery, type GalleryQuery } from "@atelier/protocol";
import { EmptyState, ResultGrid } from "@/components/result-card";
import { FramedImage } from "@/components/image";
import { galleryResults, galleryStyleFilters } from "@/server/queries";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Gallery" };

function href(q: GalleryQuery, change: Partial<GalleryQuery>): string {
  const next = { ...q, ...change };
  const sp = new URLSearchParams();
  if (next.sort !== "new") sp.set("sort", next.sort);
  if (next.style) sp.set("style", next.style);
  if (next.page > 1) sp.set("page", String(next.page));
  const s = sp.toString();
  return s ? `/gallery?${s}` : "/gallery";
}

export default async function GalleryPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const q = galleryQuery.parse(await searchParams);
  const db = await getDb();
  const [{ cards, hasMore }, styles] = await Promise.all([galleryResults(db, q), galleryStyleFilters(db)]);
  const activeStyle = q.style ? styles.find((s) => s.imageId === q.style) : undefined;

  return (
    <main className="mx-auto w-full max-w-6xl px-5 pt-12">
      <header className="flex flex-wrap items-end justify-between gap-6">
        <div>
          <p className="eyebrow">Public results</p>
          <h1 className="mt-1 text-4xl">Gallery</h1>
        </div>
        <nav aria-label="Sort" className="flex rounded-full border border-line bg-paper p-1 text-sm">
          {(["new", "liked"] as const).map((sort) => (
            <Link
              key={sort}
              href={href(q, { sort, page: 1 })}
              aria-current={q.sort === sort ? "page" : undefined}
              className={`rounded-full px-4 py-1.5 ${q.sort === sort ? "bg-ink text-canvas" : "text-muted hover:text-ink"}`}
              data-testid={`gallery-sort-${sort}`}
            >
              {sort === "new" ? "Newest" : "Most liked"}
            </Link>
          ))}
        </nav>
      </header>

      {styles.length > 0 && (
        <nav aria-label="Filter by style" className="mt-8">
          <p className="mb-2 text-sm text-muted">Filter by style</p>
          <ul className="flex gap-3 overflow-x-auto pb-2">
            <li>
              <Link
                href={href(q, { style: undefined, page: 1 })}
                aria-current={!q.style ? "true" : undefined}
                className={`flex h-16 w-16 items-center justify-center rounded-xl border text-sm ${!q.style ? "border-ink bg-ink text-canvas" : "border-line bg-paper text-muted hover:border-faint"}`}
              >
                All
              </Link>
            </li>
            {styles.map((s) => (
              <li key={s.imageId}>
                <Link
                  href={href(q, { style: s.imageId, page: 1 })}
                  aria-current={q.style === s.imageId ? "true" : undefined}
                  title={s.name}
                  className="group block w-16"
                  data-testid="gallery-style-filter"
                >
                  {/* the name under the thumbnail is the link's name: a row of small paintings alone says little */}
                  <FramedImage
                    id={s.imageId}
                    alt=""
                    thumb={160}
                    className={`h-16 w-16 rounded-xl ${q.style === s.imageId ? "ring-2 ring-ink ring-offset-2 ring-offset-canvas" : ""}`}
                  />
                  <span
                    className={`mt-1 block truncate text-center text-xs ${q.style === s.imageId ? "font-semibold text-ink" : "text-muted group-hover:text-ink"}`}
                  >
                    {s.name}
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {q.style && (
        <p className="mt-4 text-sm text-muted" data-testid="gallery-filter-note">
          Showing results painted with{" "}
          {activeStyle ? <b className="text-ink">{activeStyle.name}</b> : "the chosen style"}.{" "}
          <Link className="link" href={href(q, { style: undefined, page: 1 })}>
            Clear filter
          </Link>
        </p>
      )}

      <section className="mt-10" aria-label="Results">
        <ResultGrid
          cards={cards}
          empty={
            <EmptyState title={q.style ? "Nothing painted with this style yet" : "No public results yet"}>
              Results published from a room appear here.
            </EmptyState>
          }
        />
      </section>

      {(q.page > 1 || hasMore) && (
        <nav aria-label="Pages" className="mt-12 flex justify-center gap-3">
          {q.page > 1 && (
            <Link className="btn btn-secondary" href={href(q, { page: q.page - 1 })}>
              ← Newer
            </Link>
          )}
          {hasMore && (
            <Link className="btn btn-secondary" href={href(q, { page: q.page + 1 })}>
              More →
            </Link>
          )}
        </nav>
      )}
    </main>
  );
}
