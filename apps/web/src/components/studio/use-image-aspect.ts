"use client";

import { useEffect, useState } from "react";
import { imageUrl } from "../image";

/**
 * The short side ÷ long side of a stored image, read from its thumbnail as the browser decodes
 * it (the thumbnail keeps the aspect); null until known. The estimate before Start uses it: a
 * 4:3 photo paints ¾ of the pixels of a square one.
 */
export function useImageAspect(imageId: string | null): number | null {
  const [known, setKnown] = useState<{ imageId: string; aspect: number } | null>(null);
  useEffect(() => {
    if (!imageId) return;
    const img = new Image();
    img.onload = () => {
      const { naturalWidth: w, naturalHeight: h } = img;
      if (w > 0 && h > 0) setKnown({ imageId, aspect: Math.min(w, h) / Math.max(w, h) });
    };
    img.src = imageUrl(imageId, 160);
    return () => {
      img.onload = null;
    };
  }, [imageId]);
  return known && known.imageId === imageId ? known.aspect : null;
}
