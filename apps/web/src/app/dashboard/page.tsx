import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@atelier/db";
import { CreateRoomForm, DeleteRoomButton } from "@/components/dashboard-actions";
import { FramedImage } from "@/components/image";
import { EmptyState, ResultGrid } from "@/components/result-card";
import { requireUser } from "@/server/page-session";
import { myResults, myRooms, styleLibrary } from "@/server/queries";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Your studio" };

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
function ago(date: Date): string {
  const minutes = Math.round((date.getTime() - Date.now()) / 60_000);
  if (Math.abs(minutes) < 60) return relative.format(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 48) return relative.format(hours, "hour");
  return relative.format(Math.round(hours / 24), "day");
}

export default async function DashboardPage() {
  const user = await requireUser("/dashboard");
  const db = await getDb();
  const [rooms, styles, results] = await Promise.all([
    myRooms(db, user.id),
    styleLibrary(db, user.id),
    myResults(db, user.id),
  ]);

  return (
    <main className="mx-auto w-full max-w-6xl space-y-16 px-5 pt-12">
      <header>
        <p className="eyebrow">Your studio</p>
        <h1 className="mt-1 text-4xl">Good to see you, {user.name.split(" ")[0]}.</h1>
      </header>

      <section aria-labelledby="rooms-heading" className="space-y-5">
        <div className="flex flex-wrap items-end justify-between gap-3">
          <h2 id="rooms-heading" className="text-2xl">
            Rooms
          </h2>
          <p className="text-sm text-muted">A room holds one co-edited run: its photo, styles and settings.</p>
        </div>
        <CreateRoomForm />
        {rooms.length === 0 ? (
          <EmptyState title="No rooms yet">Create one above, then invite a friend from inside it.</EmptyState>
        ) : (
          <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" data-testid="room-list">
            {rooms.map((room) => (
              <li key={room.id} className="card flex flex-col overflow-hidden" data-testid="room-item">
                <Link href={`/rooms/${room.id}`} className="group block" aria-label={`Open room ${room.name}`}>
                  <div className="grid grid-cols-[2fr_1fr] gap-px bg-line">
                    {room.latestPaintingId ? (
                      <div data-testid="room-latest-painting">
                        <FramedImage
                          id={room.latestPaintingId}
                          alt={`Latest painting of ${room.name}`}
                          thumb={320}
                          ratio="4 / 3"
                        />
                      </div>
                    ) : room.contentImageId ? (
                      <FramedImage id={room.contentImageId} alt="" thumb={320} ratio="4 / 3" />
                    ) : (
                      <div
                        className="frame flex items-center justify-center text-xs text-faint"
                        style={{ aspectRatio: "4 / 3" }}
                      >
                        no photo yet
                      </div>
                    )}
                    <div className="grid grid-rows-2 gap-px">
                      {[0, 1].map((i) =>
                        room.styleImageIds[i] ? (
                          <FramedImage
                            key={i}
                            id={room.styleImageIds[i]}
                            alt=""
                            thumb={160}
                            ratio="auto"
                            className="h-full"
                          />
                        ) : (
                          <div key={i} className="frame" />
                        ),
                      )}
                    </div>
                  </div>
                </Link>
                <div className="flex items-start gap-3 p-4">
                  <div className="min-w-0 flex-1">
                    <h3 className="truncate font-serif text-lg">
                      <Link href={`/rooms/${room.id}`} className="hover:text-accent-strong" data-testid="open-room">
                        {room.name}
                      </Link>
                    </h3>
                    <p className="text-xs text-muted">
                      {room.role === "owner" ? "yours" : `${room.role} · ${room.ownerName}'s room`} · {room.members}{" "}
                      member{room.members === 1 ? "" : "s"} · {ago(room.updatedAt)}
                    </p>
                  </div>
                  {room.role === "owner" && <DeleteRoomButton roomId={room.id} roomName={room.name} />}
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="styles-heading" className="space-y-5">
        <div className="flex flex-wrap items-end justify-between gap-3">
          <h2 id="styles-heading" className="text-2xl">
            My styles
          </h2>
          <Link href="/styles" className="link text-sm">
            Manage the style library
          </Link>
        </div>
        {styles.mine.length === 0 ? (
          <EmptyState title="Your style library is empty">
            <Link className="link" href="/styles">
              Upload a painting
            </Link>{" "}
            or pick a public one inside a room.
          </EmptyState>
        ) : (
          <ul className="flex gap-4 overflow-x-auto pb-2">
            {styles.mine.slice(0, 12).map((s) => (
              <li key={s.id} className="w-32 shrink-0">
                <FramedImage id={s.imageId} alt={`Style: ${s.name}`} thumb={320} className="rounded-xl" />
                <p className="mt-1 truncate text-sm">{s.name}</p>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="results-heading" className="space-y-5">
        <h2 id="results-heading" className="text-2xl">
          My results
        </h2>
        <ResultGrid
          cards={results}
          showVisibility
          empty={<EmptyState title="Nothing saved yet">Finish a run in a room and press “Save result”.</EmptyState>}
        />
      </section>
    </main>
  );
}
