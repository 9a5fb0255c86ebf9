import { readProvenance, readRoomDocument, readRunParams, readStyleImageIds, type Db } from "@atelier/db";
import type { GalleryQuery, StyleInfo } from "@atelier/protocol";
import { canViewImage } from "@atelier/storage";
import { provenanceForPage, provenanceUserIds } from "./provenance-view";
import { displayName } from "./session";

/* Read models for pages (server components) and the few JSON list endpoints. */

export const GALLERY_PAGE_SIZE = 24;

const cardSelect = {
  id: true,
  title: true,
  imageId: true,
  contentImageId: true,
  styleImageIds: true,
  likeCount: true,
  isPublic: true,
  createdAt: true,
  image: { select: { width: true, height: true } },
  author: { select: { id: true, name: true, email: true } },
} as const;

export interface ResultCard {
  id: string;
  title: string;
  imageId: string;
  width: number;
  height: number;
  contentImageId: string | null;
  styleImageIds: string[];
  likeCount: number;
  isPublic: boolean;
  createdAt: Date;
  authorName: string;
  authorId: string;
}

type CardRow = {
  id: string;
  title: string;
  imageId: string;
  contentImageId: string | null;
  styleImageIds: string;
  likeCount: number;
  isPublic: boolean;
  createdAt: Date;
  image: { width: number; height: number };
  author: { id: string; name: string | null; email: string };
};

function toCard(r: CardRow): ResultCard {
  return {
    id: r.id,
    title: r.title,
    imageId: r.imageId,
    width: r.image.width,
    height: r.image.height,
    contentImageId: r.contentImageId,
    styleImageIds: readStyleImageIds(r),
    likeCount: r.likeCount,
    isPublic: r.isPublic,
    createdAt: r.createdAt,
    authorName: displayName(r.author),
    authorId: r.author.id,
  };
}

export async function newestPublicResults(db: Db, take: number): Promise<ResultCard[]> {
  const rows = await db.result.findMany({
    where: { isPublic: true },
    orderBy: { createdAt: "desc" },
    take,
    select: cardSelect,
  });
  return rows.map(toCard);
}

export async function galleryResults(db: Db, q: GalleryQuery): Promise<{ cards: ResultCard[]; hasMore: boolean }> {
  const where = {
    isPublic: true,
    // styleImageIds is a JSON array of ids; ids are cuids (no quotes inside), so this match is exact.
    ...(q.style ? { styleImageIds: { contains: JSON.stringify(q.style) } } : {}),
  };
  const rows = await db.result.findMany({
    where,
    orderBy: q.sort === "liked" ? [{ likeCount: "desc" }, { createdAt: "desc" }] : [{ createdAt: "desc" }],
    skip: (q.page - 1) * GALLERY_PAGE_SIZE,
    take: GALLERY_PAGE_SIZE + 1,
    select: cardSelect,
  });
  return { cards: rows.slice(0, GALLERY_PAGE_SIZE).map(toCard), hasMore: rows.length > GALLERY_PAGE_SIZE };
}

/** Styles used by public results, for the gallery's filter (named after a public style when there is one). */
export async function galleryStyleFilters(db: Db): Promise<Array<{ imageId: string; name: string }>> {
  const styles = await db.style.findMany({
    where: { isPublic: true },
    orderBy: { createdAt: "desc" },
    take: 40,
    select: { imageId: true, name: true },
  });
  const seen = new Set<string>();
  return styles.filter((s) => (seen.has(s.imageId) ? false : (seen.add(s.imageId), true)));
}

export async function resultDetail(db: Db, id: string, viewerId: string | null) {
  const r = await db.result.findUnique({
    where: { id },
    select: {
      ...cardSelect,
      provenance: true,
      image: { select: { width: true, height: true, mime: true } },
      run: {
        select: {
          id: true,
          params: true,
          seed: true,
          modelHash: true,
          backend: true,
          iterations: true,
          computeMs: true,
          startedAt: true,
          finishedAt: true,
        },
      },
      ...(viewerId ? { likes: { where: { userId: viewerId }, select: { userId: true } } } : {}),
    },
  });
  if (!r || (!r.isPublic && r.author.id !== viewerId)) return null;
  const styleIds = readStyleImageIds(r);
  const styleNames = await db.style.findMany({
    where: { imageId: { in: styleIds }, OR: [{ isPublic: true }, ...(viewerId ? [{ ownerId: viewerId }] : [])] },
    select: { imageId: true, name: true },
  });
  const likes = (r as { likes?: unknown[] }).likes;
  const record = readProvenance(r);
  const people = record
    ? await db.user.findMany({
        where: { id: { in: provenanceUserIds(record) } },
        select: { id: true, name: true, email: true },
      })
    : [];
  // sources this viewer may not see (someone else's private images: a public result publishes
  // only its own image) are shown as private, not as broken images
  const card = toCard(r);
  const hiddenSources: string[] = [];
  for (const source of [card.contentImageId, ...card.styleImageIds])
    if (source && !(await canViewImage(db, source, viewerId))) hiddenSources.push(source);
  return {
    card,
    mime: r.image.mime,
    params: readRunParams(r.run),
    run: r.run,
    hiddenSources,
    provenance: record && provenanceForPage(record, new Map(people.map((p) => [p.id, displayName(p)]))),
    styleNames: Object.fromEntries(styleNames.map((s) => [s.imageId, s.name])) as Record<string, string>,
    likedByViewer: Array.isArray(likes) && likes.length > 0,
  };
}

export async function myRooms(db: Db, userId: string) {
  const memberships = await db.roomMember.findMany({
    where: { userId },
    orderBy: { room: { updatedAt: "desc" } },
    select: {
      role: true,
      room: {
        select: {
          id: true,
          name: true,
          ownerId: true,
          document: true,
          updatedAt: true,
          owner: { select: { name: true, email: true } },
          _count: { select: { members: true, runs: true } },
          // the latest painting a run of the room left (the card shows it instead of the photo)
          runs: {
            where: { finalImageId: { not: null } },
            orderBy: { createdAt: "desc" },
            take: 1,
            select: { finalImageId: true },
          },
        },
      },
    },
  });
  return memberships.map(({ role, room }) => {
    const doc = readRoomDocument(room);
    return {
      id: room.id,
      name: room.name,
      role: room.ownerId === userId ? "owner" : role,
      ownerName: displayName(room.owner),
      updatedAt: room.updatedAt,
      members: room._count.members,
      runs: room._count.runs,
      contentImageId: doc.contentImageId,
      styleImageIds: doc.styles.map((s) => s.imageId),
      latestPaintingId: room.runs[0]?.finalImageId ?? null,
    };
  });
}

export async function myResults(db: Db, userId: string): Promise<ResultCard[]> {
  const rows = await db.result.findMany({
    where: { authorId: userId },
    orderBy: { createdAt: "desc" },
    take: 60,
    select: cardSelect,
  });
  return rows.map(toCard);
}

const styleSelect = {
  id: true,
  name: true,
  isPublic: true,
  imageId: true,
  ownerId: true,
  image: { select: { width: true, height: true } },
  owner: { select: { name: true, email: true } },
} as const;

type StyleRow = {
  id: string;
  name: string;
  isPublic: boolean;
  imageId: string;
  ownerId: string;
  image: { width: number; height: number };
  owner: { name: string | null; email: string };
};

export function toStyleInfo(s: StyleRow, viewerId: string | null): StyleInfo {
  return {
    id: s.id,
    name: s.name,
    isPublic: s.isPublic,
    imageId: s.imageId,
    width: s.image.width,
    height: s.image.height,
    ownerId: s.ownerId,
    ownerName: displayName(s.owner),
    mine: s.ownerId === viewerId,
  };
}

/** My styles, and public styles of others (newest first). */
export async function styleLibrary(db: Db, userId: string): Promise<{ mine: StyleInfo[]; public: StyleInfo[] }> {
  const [mine, others] = await Promise.all([
    db.style.findMany({ where: { ownerId: userId }, orderBy: { createdAt: "desc" }, select: styleSelect }),
    db.style.findMany({
      where: { isPublic: true, ownerId: { not: userId } },
      orderBy: { createdAt: "desc" },
      take: 100,
      select: styleSelect,
    }),
  ]);
  return { mine: mine.map((s) => toStyleInfo(s, userId)), public: others.map((s) => toStyleInfo(s, userId)) };
}

export { styleSelect };
