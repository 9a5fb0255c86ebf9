"use client";

import { useEffect, useState } from "react";
import { IdleCommitter } from "@/lib/field-commit";

/** One IdleCommitter per mounted field; a value still held when the field unmounts is committed then (the person meant it). */
export function useCommitter<T>(): IdleCommitter<T> {
  const [committer] = useState(() => new IdleCommitter<T>());
  useEffect(() => () => committer.flush(), [committer]);
  return committer;
}
