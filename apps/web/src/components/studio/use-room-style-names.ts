"use client";

import { useEffect, useState } from "react";
import { roomStyleNamesResponse } from "@atelier/protocol";

/**
 * The titles of the room's styles as the room knows them (GET /api/rooms/:id/style-names), so
 * a collaborator's private painting shows its real title to everyone in the room. Fetched again
 * when the set of style images changes; a failure leaves the names from my library.
 */
export function useRoomStyleNames(roomId: string, imageIds: string[]): Record<string, string> {
  const [names, setNames] = useState<Record<string, string>>({});
  const key = [...imageIds].sort().join(",");
  useEffect(() => {
    if (!key) return;
    let live = true;
    fetch(`/api/rooms/${encodeURIComponent(roomId)}/style-names`, { cache: "no-store" })
      .then(async (res) => (res.ok ? roomStyleNamesResponse.parse(await res.json()).names : null))
      .then((fetched) => {
        if (live && fetched) setNames((known) => ({ ...known, ...fetched }));
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [roomId, key]);
  return names;
}
