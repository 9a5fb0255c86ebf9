import type { Metadata } from "next";
import { getDb } from "@atelier/db";
import { EmptyState } from "@/components/result-card";
import { StyleTile, StyleUploadForm } from "@/components/style-library";
import { requireUser } from "@/server/page-session";
import { styleLibrary } from "@/server/queries";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Style library" };

export default async function StylesPage() {
  const user = await requireUser("/styles");
  const library = await styleLibrary(await getDb(), user.id);
  return (
    <main className="mx-auto w-full max-w-6xl space-y-14 px-5 pt-12">
      <header>
        <p className="eyebrow">Style library</p>
        <h1 className="mt-1 text-4xl">Paintings to paint with</h1>
        <p className="mt-3 max-w-2xl text-muted">
          Upload the works whose brushwork, palette and texture you want to borrow. Keep them private, or make them
          public so everyone can choose them in their rooms.
        </p>
      </header>
      <StyleUploadForm />
      <section aria-labelledby="mine-heading">
        <h2 id="mine-heading" className="mb-5 text-2xl">
          My styles
        </h2>
        {library.mine.length === 0 ? (
          <EmptyState title="No styles yet">Upload a painting above.</EmptyState>
        ) : (
          <ul className="grid grid-cols-2 gap-6 sm:grid-cols-3 lg:grid-cols-5" data-testid="my-styles">
            {library.mine.map((s) => (
              <StyleTile key={s.id} style={s} editable />
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="public-heading">
        <h2 id="public-heading" className="mb-5 text-2xl">
          Public styles
        </h2>
        {library.public.length === 0 ? (
          <EmptyState title="No public styles from others yet" />
        ) : (
          <ul className="grid grid-cols-2 gap-6 sm:grid-cols-3 lg:grid-cols-5">
            {library.public.map((s) => (
              <StyleTile key={s.id} style={s} editable={false} />
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}
