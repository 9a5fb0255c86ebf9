"use client";

/* eslint-disable @next/next/no-img-element -- images come from our own content-addressed route, already sized */
import { useId, useState } from "react";

/**
 * Two images of the same picture, one over the other: the slider wipes between them (left of
 * the line the first, right of it the second). Photo vs painting, or run A vs run B.
 */
export function CompareSlider({
  before,
  after,
  testId = "compare",
}: {
  before: { src: string; label: string };
  after: { src: string; label: string };
  testId?: string;
}) {
  const id = useId();
  const [at, setAt] = useState(50);
  return (
    <figure className="m-0 space-y-2" data-testid={testId}>
      <div className="relative mx-auto w-full max-w-lg overflow-hidden rounded-lg bg-line/40">
        {/* the "after" image sets the box's size; "before" lies over it, clipped to the left part */}
        <img src={after.src} alt={after.label} className="block h-auto w-full" data-testid={`${testId}-after`} />
        <img
          src={before.src}
          alt={before.label}
          className="absolute inset-0 h-full w-full object-cover"
          style={{ clipPath: `inset(0 ${100 - at}% 0 0)` }}
          data-testid={`${testId}-before`}
        />
        <div aria-hidden className="absolute inset-y-0 w-0.5 bg-paper shadow" style={{ left: `${at}%` }} />
        <span className="absolute left-2 top-2 rounded-full bg-paper/90 px-2 py-0.5 text-xs">{before.label}</span>
        <span className="absolute right-2 top-2 rounded-full bg-paper/90 px-2 py-0.5 text-xs">{after.label}</span>
      </div>
      <label htmlFor={id} className="sr-only">
        Wipe between {before.label} and {after.label}
      </label>
      <input
        id={id}
        type="range"
        min={0}
        max={100}
        value={at}
        className="w-full"
        aria-valuetext={`${at} % ${before.label}`}
        data-testid={`${testId}-slider`}
        onChange={(e) => setAt(Number(e.target.value))}
      />
    </figure>
  );
}
