"use client";

import { useEffect, useRef, useState } from "react";
import { IdleCommitter } from "@/lib/field-commit";

/**
 * One IdleCommitter per mounted field. It always commits through the latest `commit` (the
 * connection and the room's value change between renders), and a value still held when the
 * field unmounts is committed then: the person meant it.
 */
export function useCommitter<T>(commit: (value: T) => void): IdleCommitter<T> {
  const latest = useRef(commit);
  useEffect(() => {
    latest.current = commit;
  });
  const [committer] = useState(() => new IdleCommitter<T>((value) => latest.current(value)));
  useEffect(() => () => committer.flush(), [committer]);
  return committer;
}
