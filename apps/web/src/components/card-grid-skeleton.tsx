/** The placeholder a card grid page (dashboard, gallery) shows while its data loads. */
export function CardGridSkeleton() {
  return (
    <main className="mx-auto w-full max-w-6xl px-5 pt-12" aria-busy="true">
      <p role="status" className="sr-only">
        Loading…
      </p>
      <div className="h-4 w-32 animate-pulse rounded bg-line" />
      <div className="mt-4 h-9 w-72 animate-pulse rounded bg-line" />
      <div className="mt-10 grid grid-cols-1 gap-6 sm:grid-cols-2 lg:grid-cols-4">
        {[0, 1, 2, 3].map((i) => (
          <div key={i} className="aspect-[4/5] animate-pulse rounded-2xl bg-line/70" />
        ))}
      </div>
    </main>
  );
}
