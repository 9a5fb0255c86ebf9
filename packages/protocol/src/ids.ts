import { z } from "zod";

/** Every id that crosses a boundary (rooms, runs, users, images, results, sweeps): cuid-like, bounded. */
export const id = z.string().min(1).max(64);
