import Link from "next/link";
import type { ResultCard } from "@/server/queries";
import { cardAspect } from "@/lib/card-aspect";
import { FramedImage } from "./image";

function ResultCardView({ card, showVisibility = false }: { card: ResultCard; showVisibility?: boolean }) {
  return (
    <article className="group" data-testid="result-card" data-result-id={card.id}>
      <Link href={`/results/${card.id}`} className="block rounded-2xl">
        <FramedImage
          id={card.imageId}
          alt={`“${card.title}” by ${card.authorName}`}
          ratio={cardAspect(card.width, card.height)}
          thumb={640}
          className="rounded-2xl transition-transform duration-300 group-hover:-translate-y-0.5 group-hover:shadow-[0_12px_30px_-12px_rgba(33,29,24,0.35)]"
        />
      </Link>
      <div className="mt-3 flex items-start gap-3">
        <div className="min-w-0 flex-1">
          <h3 className="truncate font-serif text-lg leading-tight">
            <Link href={`/results/${card.id}`} className="hover:text-accent-strong">
              {card.title}
            </Link>
          </h3>
          {/* the name may be cut short, the badge never ("publ…") */}
          <p className="mt-0.5 flex min-w-0 items-center gap-2 text-sm text-muted">
            <span className="truncate">{card.authorName}</span>
            {showVisibility && (
              <span className="shrink-0 rounded-full bg-line/60 px-2 py-0.5 text-xs" data-testid="visibility-badge">
                {card.isPublic ? "public" : "private"}
              </span>
            )}
          </p>
        </div>
        <div className="flex shrink-0 items-center gap-1" aria-label="Content and style images">
          {card.contentImageId && (
            <FramedImage
              id={card.contentImageId}
              alt="Content photo"
              thumb={160}
              className="h-9 w-9 rounded-md ring-1 ring-line"
            />
          )}
          {card.styleImageIds.slice(0, 2).map((s) => (
            <Link key={s} href={`/gallery?style=${s}`} title="More with this style" className="rounded-md">
              <FramedImage id={s} alt="Style painting" thumb={160} className="h-9 w-9 rounded-md ring-1 ring-line" />
            </Link>
          ))}
        </div>
      </div>
      <p className="mt-1 text-xs text-faint" aria-label={`${card.likeCount} likes`}>
        ♥ {card.likeCount}
      </p>
    </article>
  );
}

export function ResultGrid({
  cards,
  empty,
  showVisibility,
}: {
  cards: ResultCard[];
  empty: React.ReactNode;
  showVisibility?: boolean;
}) {
  if (cards.length === 0) return <>{empty}</>;
  return (
    <div className="grid grid-cols-1 items-end gap-x-6 gap-y-10 sm:grid-cols-2 lg:grid-cols-3 xl:grid-cols-4">
      {cards.map((c) => (
        <ResultCardView key={c.id} card={c} showVisibility={showVisibility} />
      ))}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="rounded-2xl border border-dashed border-line px-6 py-12 text-center">
      <p className="font-serif text-xl">{title}</p>
      {children && <div className="mt-2 text-sm text-muted">{children}</div>}
    </div>
  );
}
