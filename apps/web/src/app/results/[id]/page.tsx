import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { getDb } from "@atelier/db";
import { FramedImage, imageUrl } from "@/components/image";
import { CopyLinkButton, LikeButton, RemixButton } from "@/components/result-actions";
import { ResultImage } from "@/components/result-image";
import { currentUser } from "@/server/page-session";
import { resultDetail } from "@/server/queries";
import { ParamsTable } from "@/components/params-table";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ id: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  const user = await currentUser();
  const detail = await resultDetail(await getDb(), id, user?.id ?? null);
  return { title: detail ? detail.card.title : "Result not found" };
}

function formatDuration(ms: number | null | undefined): string | null {
  if (!ms) return null;
  const s = Math.round(ms / 1000);
  return s < 90 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** A source image this visitor may not see (someone's private upload): said, not shown. */
function PrivateSource() {
  return (
    <div
      className="flex aspect-square items-center justify-center rounded-xl border border-line bg-paper p-2 text-center text-xs text-muted"
      data-testid="private-source"
    >
      Private image
    </div>
  );
}

export default async function ResultPage({ params }: Props) {
  const { id } = await params;
  const user = await currentUser();
  const detail = await resultDetail(await getDb(), id, user?.id ?? null);
  if (!detail) notFound();
  const { card, params: runParams, run, provenance, styleNames, hiddenSources } = detail;

  return (
    <main className="mx-auto grid w-full max-w-6xl gap-10 px-5 pt-10 lg:grid-cols-[minmax(0,1.5fr)_minmax(0,1fr)]">
      <div className="lg:sticky lg:top-24 lg:self-start">
        <ResultImage
          id={card.imageId}
          alt={`“${card.title}” by ${card.authorName}`}
          width={card.width}
          height={card.height}
        />
      </div>
      <aside className="space-y-8">
        <div>
          <p className="eyebrow">{card.isPublic ? "In the gallery" : "Private result"}</p>
          <h1 className="mt-2 text-4xl leading-tight" data-testid="result-title">
            {card.title}
          </h1>
          <p className="mt-2 text-muted">
            by <span className="text-ink">{card.authorName}</span> ·{" "}
            {card.createdAt.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" })}
          </p>
        </div>
        <div className="flex flex-wrap items-start gap-3">
          <LikeButton
            resultId={card.id}
            initialLiked={detail.likedByViewer}
            initialCount={card.likeCount}
            signedIn={!!user}
          />
          <RemixButton resultId={card.id} signedIn={!!user} />
          <a
            className="btn btn-ghost"
            href={`${imageUrl(card.imageId)}?format=png&download=1`}
            download
            data-testid="download-png"
          >
            Download PNG{" "}
            <span className="tabular-nums text-muted">
              · {card.width} × {card.height}
            </span>
          </a>
          <CopyLinkButton />
        </div>

        <section aria-labelledby="sources-heading">
          <h2 id="sources-heading" className="text-xl">
            Painted from
          </h2>
          <div className="mt-3 grid grid-cols-3 gap-3">
            {card.contentImageId && (
              <figure>
                {hiddenSources.includes(card.contentImageId) ? (
                  <PrivateSource />
                ) : (
                  <FramedImage id={card.contentImageId} alt="Content photo" thumb={320} className="rounded-xl" />
                )}
                <figcaption className="mt-1 text-xs text-muted">Content</figcaption>
              </figure>
            )}
            {card.styleImageIds.map((s, i) => (
              <figure key={s}>
                {hiddenSources.includes(s) ? (
                  <PrivateSource />
                ) : (
                  <Link href={`/gallery?style=${s}`} className="block rounded-xl" title="More results with this style">
                    <FramedImage id={s} alt={`Style ${styleNames[s] ?? i + 1}`} thumb={320} className="rounded-xl" />
                  </Link>
                )}
                <figcaption className="mt-1 truncate text-xs text-muted">
                  {styleNames[s] ?? `Style ${i + 1}`}
                  {runParams &&
                    runParams.styles.length > 1 &&
                    ` · weight ${runParams.styles.find((x) => x.imageId === s)?.weight ?? "?"}`}
                </figcaption>
              </figure>
            ))}
          </div>
        </section>

        <section aria-labelledby="params-heading">
          <h2 id="params-heading" className="text-xl">
            Settings
          </h2>
          {runParams ? (
            <ParamsTable params={runParams} />
          ) : (
            <p className="mt-2 text-sm text-muted">The settings of this run could not be read.</p>
          )}
        </section>

        <section aria-labelledby="prov-heading">
          <h2 id="prov-heading" className="text-xl">
            Provenance
          </h2>
          <dl className="mt-3 grid grid-cols-[auto_1fr] gap-x-6 gap-y-1.5 text-sm" data-testid="provenance">
            <dt className="text-muted">Iterations</dt>
            <dd className="tabular-nums">{run.iterations}</dd>
            <dt className="text-muted">Seed</dt>
            <dd className="tabular-nums">{run.seed}</dd>
            {run.backend && (
              <>
                <dt className="text-muted">Backend</dt>
                <dd>{run.backend}</dd>
              </>
            )}
            {formatDuration(run.computeMs) && (
              <>
                <dt className="text-muted">Compute time</dt>
                <dd>{formatDuration(run.computeMs)}</dd>
              </>
            )}
            {run.modelHash && (
              <>
                <dt className="text-muted">Model</dt>
                <dd className="truncate font-mono text-xs leading-5" title={run.modelHash}>
                  VGG-19 · {run.modelHash.slice(0, 16)}…
                </dd>
              </>
            )}
            <dt className="text-muted">Image</dt>
            <dd className="tabular-nums">
              {card.width} × {card.height} px
            </dd>
          </dl>
          {provenance && (
            <details className="mt-4 text-sm">
              <summary className="cursor-pointer text-muted hover:text-ink">Full provenance record</summary>
              <pre className="mt-2 max-h-80 overflow-auto rounded-xl border border-line bg-paper p-3 font-mono text-xs">
                {JSON.stringify(provenance, null, 2)}
              </pre>
            </details>
          )}
        </section>
      </aside>
    </main>
  );
}
