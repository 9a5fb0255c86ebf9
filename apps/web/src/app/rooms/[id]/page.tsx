import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { getDb, readRoomDocument, roleOf } from "@atelier/db";
import type { RoomState } from "@atelier/protocol";
import { Studio } from "@/components/studio/studio";
import { currentUser, requireUser } from "@/server/page-session";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

/** The tab says which room; only members learn a room's name (others get the 404's title). */
export async function generateMetadata({ params }: Pick<Props, "params">): Promise<Metadata> {
  const { id } = await params;
  const user = await currentUser();
  if (!user) return { title: "Studio" };
  const db = await getDb();
  const [room, role] = await Promise.all([
    db.room.findUnique({ where: { id }, select: { name: true } }),
    roleOf(db, id, user.id),
  ]);
  return { title: room && role ? room.name : "Page not found" };
}

/**
 * The room studio. The page renders the stored document at once (read-only until the live
 * connection to the optimisation service has joined and sent the room's current state).
 */
export default async function RoomPage({ params, searchParams }: Props) {
  const { id } = await params;
  const user = await requireUser(`/rooms/${id}`);
  const db = await getDb();
  const [room, role] = await Promise.all([
    db.room.findUnique({ where: { id }, select: { id: true, name: true, document: true, version: true } }),
    roleOf(db, id, user.id),
  ]);
  // a real 404, and the same one whether the room is missing or private (no existence oracle)
  if (!room || !role) notFound();
  const initial: RoomState = {
    roomId: room.id,
    name: room.name,
    role,
    document: readRoomDocument(room),
    version: room.version,
    members: [],
    run: null,
    history: [],
    restartNeeded: [],
    // who changed what lives only in the optimiser's memory: its room:state fills this in
    fieldAuthors: {},
  };
  const joined = (await searchParams).joined;
  return (
    <Studio
      initial={initial}
      me={{ userId: user.id, name: user.name }}
      joinedAs={typeof joined === "string" ? joined : undefined}
    />
  );
}
