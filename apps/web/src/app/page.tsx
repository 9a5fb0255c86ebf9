import Link from "next/link";
import { getDb } from "@atelier/db";
import { EmptyState, ResultGrid } from "@/components/result-card";
import { FramedImage } from "@/components/image";
import { cardAspect } from "@/lib/card-aspect";
import { newestPublicResults } from "@/server/queries";
import { currentUser } from "@/server/page-session";

export const dynamic = "force-dynamic";

export default async function Home() {
  const [user, results] = await Promise.all([currentUser(), getDb().then((db) => newestPublicResults(db, 8))]);
  return (
    <main>
      <section className="mx-auto grid max-w-6xl items-center gap-10 px-5 pt-14 pb-16 md:grid-cols-[1.1fr_1fr] md:pt-20">
        <div>
          <p className="eyebrow">A shared studio for neural style transfer</p>
          <h1 className="mt-4 text-4xl leading-[1.08] sm:text-5xl md:text-6xl">
            Paint a photograph <span className="italic text-accent">in the manner of</span> a master — together.
          </h1>
          <p className="mt-6 max-w-xl text-lg text-muted">
            Choose a photo and one or more paintings. Tune the weights with friends in the same room and watch the
            picture emerge live, iteration by iteration. Keep what you love; share it in the gallery.
          </p>
          <div className="mt-8 flex flex-wrap gap-3">
            {user ? (
              <Link href="/dashboard" className="btn btn-primary" data-testid="cta-studio">
                Go to your studio
              </Link>
            ) : (
              <>
                <Link href="/signup" className="btn btn-primary" data-testid="cta-signup">
                  Get started — it’s free
                </Link>
                <Link href="/signin" className="btn btn-secondary">
                  Sign in
                </Link>
              </>
            )}
            <Link href="/gallery" className="btn btn-ghost">
              Browse the gallery →
            </Link>
          </div>
        </div>
        {results[0] ? (
          <div className="relative mx-auto w-full max-w-md" data-testid="hero-result">
            <Link href={`/results/${results[0].id}`} className="block rounded-[2.2rem]">
              <FramedImage
                id={results[0].imageId}
                alt={`“${results[0].title}” by ${results[0].authorName}`}
                ratio={cardAspect(results[0].width, results[0].height)}
                thumb={640}
                priority
                className="rounded-[2.2rem]"
              />
            </Link>
            <div className="absolute -bottom-5 -left-4 max-w-[85%] rounded-2xl border border-line bg-paper/95 px-4 py-3 text-sm shadow-sm">
              <p className="font-serif text-base break-words">{results[0].title}</p>
              <p className="text-muted">by {results[0].authorName}</p>
            </div>
          </div>
        ) : (
          <div
            className="mx-auto w-full max-w-md rounded-[2.2rem] border border-dashed border-line bg-paper/70 p-8"
            data-testid="hero-invitation"
          >
            <p className="eyebrow">The gallery is empty</p>
            <h2 className="mt-2 text-2xl">The first painting here could be yours.</h2>
            <p className="mt-3 text-muted">
              Open a room, add a photo and a painting, and press Start: the first preview appears within seconds and the
              picture takes shape in a few minutes. Save it as public and it hangs here.
            </p>
            <Link href={user ? "/dashboard" : "/signup"} className="btn btn-primary mt-6">
              {user ? "Open a room" : "Start painting"}
            </Link>
          </div>
        )}
      </section>

      <section className="border-y border-line bg-paper/60">
        <ol className="mx-auto grid max-w-6xl gap-8 px-5 py-12 sm:grid-cols-3">
          {[
            ["Open a room", "Upload a content photo and pick styles — yours, or any public painting in the library."],
            ["Steer it together", "Everyone in the room sees who is here and edits weights, size and seed live."],
            ["Keep the best", "Save a result privately or to the gallery, download the PNG, or remix someone else’s."],
          ].map(([title, text], i) => (
            <li key={title} className="flex gap-4">
              <span className="font-serif text-3xl text-accent">{i + 1}</span>
              <div>
                <h2 className="text-xl">{title}</h2>
                <p className="mt-1 text-muted">{text}</p>
              </div>
            </li>
          ))}
        </ol>
      </section>

      <section className="mx-auto w-full max-w-6xl px-5 pt-14" aria-labelledby="newest-heading">
        <div className="mb-6 flex items-end justify-between gap-4">
          <div>
            <p className="eyebrow">Fresh from the easels</p>
            <h2 id="newest-heading" className="mt-1 text-3xl">
              Newest in the gallery
            </h2>
          </div>
          <Link href="/gallery" className="link text-sm">
            See all
          </Link>
        </div>
        <ResultGrid
          cards={results}
          empty={
            <EmptyState title="The walls are still bare">
              Nobody has published a result yet —{" "}
              {user ? (
                <Link className="link" href="/dashboard">
                  be the first
                </Link>
              ) : (
                <Link className="link" href="/signup">
                  be the first
                </Link>
              )}
              .
            </EmptyState>
          }
        />
      </section>
    </main>
  );
}
