/**
 * The embedded document store: the rooms' documents in this process (one node: the process is
 * the single ordering point). Same rule as the Redis store (`decideFieldWrite`).
 */
import { isDeepStrictEqual } from "node:util";
import { ROOM_FIELDS } from "@atelier/protocol";
import { decideFieldWrite, type DocumentOffer, type DocumentStore, type StoredDocument } from "./document-store.ts";

const clone = (doc: StoredDocument): StoredDocument => ({
  document: doc.document,
  version: doc.version,
  fieldVersions: { ...doc.fieldVersions },
  fieldAuthors: { ...doc.fieldAuthors },
});

export class MemoryDocumentStore implements DocumentStore {
  readonly mayLoseDocuments = false;
  private readonly docs = new Map<string, StoredDocument>();

  open(roomId: string, seed: DocumentOffer): Promise<StoredDocument> {
    let doc = this.docs.get(roomId);
    if (!doc) {
      const fieldVersions: StoredDocument["fieldVersions"] = {};
      for (const field of ROOM_FIELDS) fieldVersions[field] = seed.version;
      doc = { document: seed.document, version: seed.version, fieldVersions, fieldAuthors: {} };
      this.docs.set(roomId, doc);
    }
    return Promise.resolve(clone(doc));
  }

  read(roomId: string): Promise<StoredDocument | null> {
    const doc = this.docs.get(roomId);
    return Promise.resolve(doc ? clone(doc) : null);
  }

  write(roomId: string, w: Parameters<DocumentStore["write"]>[1]): ReturnType<DocumentStore["write"]> {
    const doc = this.docs.get(roomId);
    if (!doc) return Promise.resolve({ status: "missing", version: 0 });
    const outcome = decideFieldWrite({
      version: doc.version,
      fieldVersion: doc.fieldVersions[w.field] ?? 0,
      sameValue: isDeepStrictEqual(doc.document[w.field], w.value),
      ifFieldVersion: w.ifFieldVersion,
    });
    if (outcome.status === "applied") {
      doc.document = { ...doc.document, [w.field]: w.value };
      doc.version = outcome.version;
      doc.fieldVersions[w.field] = outcome.version;
      doc.fieldAuthors[w.field] = w.author;
    }
    return Promise.resolve(outcome);
  }

  release(roomId: string): void {
    this.docs.delete(roomId);
  }

  close(): Promise<void> {
    this.docs.clear();
    return Promise.resolve();
  }
}
