-- AlterTable
ALTER TABLE "User" ADD COLUMN     "sessionGeneration" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "Sweep" (
    "id" TEXT NOT NULL,
    "roomId" TEXT NOT NULL,
    "authorId" TEXT NOT NULL,
    "request" TEXT NOT NULL,
    "cells" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMP(3),
    "filesRemovedAt" TIMESTAMP(3),

    CONSTRAINT "Sweep_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Sweep_roomId_createdAt_idx" ON "Sweep"("roomId", "createdAt");

-- CreateIndex
CREATE INDEX "Sweep_status_idx" ON "Sweep"("status");

-- CreateIndex
CREATE INDEX "Sweep_authorId_idx" ON "Sweep"("authorId");

-- AddForeignKey
ALTER TABLE "Sweep" ADD CONSTRAINT "Sweep_roomId_fkey" FOREIGN KEY ("roomId") REFERENCES "Room"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Sweep" ADD CONSTRAINT "Sweep_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

