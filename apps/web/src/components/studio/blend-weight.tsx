"use client";

import { useState } from "react";
import { blendShare, weightForShare } from "@/lib/style-regions";
import { useCommitter } from "./use-committer";

/**
 * One style's blend weight, moved as its share of the blend: the handle stands at the percentage
 * shown beside it (a weight track put two equal weights of 1 at a tenth of the way while the label
 * said 50 %). Like the other sliders, a drag moves a local value and the room (and a running job,
 * which takes blend weights live) gets the weight for it once: on release or when the hand rests.
 */
export function BlendWeight({
  id,
  name,
  weight,
  othersWeight,
  disabled,
  testId,
  onFocus,
  onBlur,
  commit,
}: {
  id: string;
  name: string;
  weight: number;
  /** the other styles' weights together */
  othersWeight: number;
  disabled: boolean;
  testId: string;
  onFocus: () => void;
  onBlur: () => void;
  commit: (weight: number) => void;
}) {
  const [dragged, setDragged] = useState<number | null>(null);
  const committer = useCommitter<number>();
  const share = dragged ?? blendShare(weight, othersWeight);
  const release = () => {
    committer.flush();
    setDragged(null);
  };
  return (
    <>
      <label className="sr-only" htmlFor={id}>
        Blend weight of {name}
      </label>
      <input
        id={id}
        type="range"
        min={0}
        max={100}
        step={1}
        value={share}
        disabled={disabled}
        aria-valuetext={`${share}% of the blend (weight ${weight})`}
        className="w-full"
        data-testid={testId}
        onFocus={onFocus}
        onBlur={() => {
          release();
          onBlur();
        }}
        onPointerUp={release}
        onKeyUp={release}
        onChange={(e) => {
          const next = Number(e.target.value);
          setDragged(next);
          committer.schedule(weightForShare(next, othersWeight, weight), (w) => {
            if (w !== weight) commit(w);
          });
        }}
      />
    </>
  );
}
