-- CreateTable
CREATE TABLE "Sweep" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "roomId" TEXT NOT NULL,
    "authorId" TEXT NOT NULL,
    "request" TEXT NOT NULL,
    "cells" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" DATETIME,
    "filesRemovedAt" DATETIME,
    CONSTRAINT "Sweep_roomId_fkey" FOREIGN KEY ("roomId") REFERENCES "Room" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Sweep_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- AlterTable (ADD COLUMN rather than Prisma's table rebuild: no copy of the users)
ALTER TABLE "User" ADD COLUMN "sessionGeneration" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "Sweep_roomId_createdAt_idx" ON "Sweep"("roomId", "createdAt");

-- CreateIndex
CREATE INDEX "Sweep_status_idx" ON "Sweep"("status");

-- CreateIndex
CREATE INDEX "Sweep_authorId_idx" ON "Sweep"("authorId");

