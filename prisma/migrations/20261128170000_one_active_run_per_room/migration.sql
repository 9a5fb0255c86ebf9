-- AlterTable
ALTER TABLE "Run" ADD COLUMN "activeRoomId" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Run_activeRoomId_key" ON "Run"("activeRoomId");


-- The newest queued/running run of each room holds the room's active slot.
UPDATE "Run" SET "activeRoomId" = "roomId"
WHERE "status" IN ('queued', 'running')
  AND NOT EXISTS (
    SELECT 1 FROM "Run" AS "newer"
    WHERE "newer"."roomId" = "Run"."roomId"
      AND "newer"."status" IN ('queued', 'running')
      AND ("newer"."createdAt" > "Run"."createdAt" OR ("newer"."createdAt" = "Run"."createdAt" AND "newer"."id" > "Run"."id"))
  );
