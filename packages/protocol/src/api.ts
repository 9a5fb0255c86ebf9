import { z } from "zod";
import { id } from "./ids.ts";

/*
 * HTTP API bodies of the web app (apps/web route handlers and their browser callers): one zod
 * schema per body, used by both ends. Errors come back as `{ error, field? }` with a 4xx status.
 */

export const apiError = z.object({ error: z.string(), field: z.string().optional() });
export type ApiError = z.infer<typeof apiError>;

// ───────────────────────────── accounts ─────────────────────────────

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 200;

export const email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, "that email address is too long")
  .pipe(z.email("enter a valid email address"));

/**
 * Why a password is too weak, or null when it is acceptable. Shared by the sign-up form (to
 * answer at once) and the server (which decides).
 */
export function passwordWeakness(password: string, userEmail?: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `use at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `use at most ${PASSWORD_MAX_LENGTH} characters`;
  if (!/[A-Za-z\p{L}]/u.test(password) || !/[^A-Za-z\p{L}]/u.test(password)) {
    return "mix letters with at least one number or symbol";
  }
  if (new Set(password).size < 4) return "use more different characters";
  if (userEmail && password.toLowerCase() === userEmail.trim().toLowerCase())
    return "do not use your email as password";
  return null;
}

/**
 * The site's own account: owner of the seeded public style collection (`npm run seed:styles`). Its
 * address is under the reserved `.invalid` TLD (RFC 6761), so no mailbox can ever prove it.
 */
export const SYSTEM_ACCOUNT = { email: "styles@atelier.invalid", name: "Atelier collection" } as const;

/**
 * Top-level domains that can never hold a mailbox (RFC 6761: `.invalid` never resolves,
 * `.localhost` is this machine): an account under them can only be a squatter (the system
 * account's own address is one). `.test` and `.example` stay allowed: test rigs sign up there.
 */
const RESERVED_EMAIL_TLDS = new Set(["invalid", "localhost"]);

/** Why an email address cannot be signed up with (reserved domain), or null. */
export function reservedEmailReason(address: string): string | null {
  const domain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
  const tld = domain.replace(/\.+$/, "").split(".").pop() ?? "";
  if (RESERVED_EMAIL_TLDS.has(tld)) return `addresses under .${tld} cannot receive mail; use your real email address`;
  return null;
}

/**
 * Why a display name is reserved for the site itself, or null: "Atelier" and anything starting
 * with the word (e.g. "Atelier collection", the seeded styles' author), compared after Unicode
 * compatibility folding, case and spacing, so look-alikes ("ＡＴＥＬＩＥＲ  Collection") count too.
 */
export function reservedNameReason(name: string): string | null {
  const folded = name
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\s._-]+/g, " ")
    .trim();
  if (folded === "atelier" || folded.startsWith("atelier "))
    return `"${name.trim().slice(0, 40)}" is reserved for the site's own accounts; choose another name`;
  return null;
}

export const signUpBody = z
  .object({
    name: z.string().trim().min(1, "tell us your name").max(80, "use at most 80 characters"),
    email,
    password: z.string(),
  })
  .superRefine((v, ctx) => {
    const reservedName = reservedNameReason(v.name);
    if (reservedName) ctx.addIssue({ code: "custom", path: ["name"], message: reservedName });
    const reservedEmail = reservedEmailReason(v.email);
    if (reservedEmail) ctx.addIssue({ code: "custom", path: ["email"], message: reservedEmail });
    const weakness = passwordWeakness(v.password, v.email);
    if (weakness) ctx.addIssue({ code: "custom", path: ["password"], message: `password too weak: ${weakness}` });
  });
export type SignUpBody = z.input<typeof signUpBody>;

export const signUpResponse = z.object({ user: z.object({ id, name: z.string(), email: z.string() }) });

export const realtimeTokenResponse = z.object({
  token: z.string(),
  /** the optimisation service's public URL, for socket.io-client */
  url: z.string(),
  /** expiry, seconds since the epoch */
  expiresAt: z.number().int(),
});
export type RealtimeTokenResponse = z.infer<typeof realtimeTokenResponse>;

// ───────────────────────────── rooms ─────────────────────────────

export const roomName = z.string().trim().min(1, "give the room a name").max(80, "use at most 80 characters");
export const createRoomBody = z.object({ name: roomName });
export type CreateRoomBody = z.input<typeof createRoomBody>;
export const createRoomResponse = z.object({ room: z.object({ id, name: z.string() }) });

export const INVITE_ROLES = ["editor", "viewer"] as const;
/** the longest an invite link can stay valid: links that never expire are not offered */
export const INVITE_MAX_DAYS = 30;
export const createInviteBody = z.object({
  role: z.enum(INVITE_ROLES),
  /** days until the link stops working (at most INVITE_MAX_DAYS) */
  expiresInDays: z
    .number()
    .int()
    .min(1)
    .max(INVITE_MAX_DAYS, `an invite link can be valid for at most ${INVITE_MAX_DAYS} days`)
    .default(14),
  /** how many people may join with it; null: any number until it expires */
  maxUses: z.number().int().min(1).max(1000).nullable().default(null),
});
export type CreateInviteBody = z.input<typeof createInviteBody>;
export const createInviteResponse = z.object({
  token: z.string(),
  url: z.string(),
  role: z.enum(INVITE_ROLES),
  expiresAt: z.string().nullable(),
  maxUses: z.number().int().nullable(),
});
/** An invite as its room's owner sees it in the list. */
export const inviteInfo = z.object({
  token: z.string(),
  role: z.enum(INVITE_ROLES),
  createdBy: z.object({ userId: z.string(), name: z.string() }),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  maxUses: z.number().int().nullable(),
  uses: z.number().int(),
});
export type InviteInfo = z.infer<typeof inviteInfo>;
export const listInvitesResponse = z.object({ invites: z.array(inviteInfo) });
export type ListInvitesResponse = z.infer<typeof listInvitesResponse>;
export type CreateInviteResponse = z.infer<typeof createInviteResponse>;

/**
 * POST /api/invites/:token: joining a room with an invite link is a write the visitor confirms
 * ("Join" on the invite page), never the side effect of opening a link. The body is empty (`{}`,
 * sent as JSON like every write: a cross-site form cannot).
 */
export const acceptInviteBody = z.object({}).strict();
export const acceptInviteResponse = z.object({ roomId: id, role: z.enum(["owner", "editor", "viewer"]) });
export type AcceptInviteResponse = z.infer<typeof acceptInviteResponse>;

/** PATCH /api/rooms/:id/members/:userId (owner only): the member's new role. */
export const changeMemberBody = z.object({ role: z.enum(INVITE_ROLES) });
export type ChangeMemberBody = z.input<typeof changeMemberBody>;

// ───────────────────────────── images and styles ─────────────────────────────

export const imageInfo = z.object({
  id,
  width: z.number().int(),
  height: z.number().int(),
  mime: z.string(),
  bytes: z.number().int(),
});
export type ImageInfo = z.infer<typeof imageInfo>;
export const uploadImageResponse = z.object({ image: imageInfo });

/** The text fields of the multipart style upload (the file itself is the `file` part). */
export const styleUploadFields = z.object({
  name: z.string().trim().min(1, "give the style a name").max(80, "use at most 80 characters"),
  isPublic: z
    .enum(["true", "false", "on", "off", ""])
    .optional()
    .transform((v) => v === "true" || v === "on"),
});

export const styleInfo = z.object({
  id,
  name: z.string(),
  isPublic: z.boolean(),
  imageId: id,
  width: z.number().int(),
  height: z.number().int(),
  ownerId: id,
  ownerName: z.string(),
  mine: z.boolean(),
});
export type StyleInfo = z.infer<typeof styleInfo>;
export const createStyleResponse = z.object({ style: styleInfo });
export const listStylesResponse = z.object({ mine: z.array(styleInfo), public: z.array(styleInfo) });
export type ListStylesResponse = z.infer<typeof listStylesResponse>;

export const updateStyleBody = z
  .object({
    name: z.string().trim().min(1, "give the style a name").max(80).optional(),
    isPublic: z.boolean().optional(),
  })
  .refine((v) => v.name !== undefined || v.isPublic !== undefined, "nothing to change");

// ───────────────────────────── results and gallery ─────────────────────────────

export const likeResponse = z.object({ liked: z.boolean(), likeCount: z.number().int() });
export type LikeResponse = z.infer<typeof likeResponse>;

export const remixResponse = z.object({ room: z.object({ id, name: z.string() }) });

export const GALLERY_SORTS = ["new", "liked"] as const;
export const galleryQuery = z.object({
  sort: z.enum(GALLERY_SORTS).catch("new"),
  /** a style image id: only results that used it */
  style: id.optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).catch(1),
});
export type GalleryQuery = z.infer<typeof galleryQuery>;

export const updateResultBody = z
  .object({
    title: z.string().trim().min(1, "give the result a title").max(120).optional(),
    isPublic: z.boolean().optional(),
  })
  .refine((v) => v.title !== undefined || v.isPublic !== undefined, "nothing to change");

/**
 * GET /api/rooms/:id/style-names → the titles of the styles in the room's document, by image id,
 * for every member: a collaborator's private style shows its real title, not "Style 1".
 */
export const roomStyleNamesResponse = z.object({ names: z.record(z.string(), z.string()) });
export type RoomStyleNamesResponse = z.infer<typeof roomStyleNamesResponse>;
