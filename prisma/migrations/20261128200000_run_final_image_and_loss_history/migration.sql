-- AlterTable (ADD COLUMN rather than a table rebuild; SQLite allows a REFERENCES clause on an added NULL column)
ALTER TABLE "Run" ADD COLUMN "finalImageId" TEXT REFERENCES "Image" ("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Run" ADD COLUMN "lossHistory" TEXT NOT NULL DEFAULT '[]';

-- CreateIndex
CREATE INDEX "Run_finalImageId_idx" ON "Run"("finalImageId");
