-- AlterTable (ADD COLUMN rather than a table rebuild)
ALTER TABLE "RoomInvite" ADD COLUMN "maxUses" INTEGER;
ALTER TABLE "RoomInvite" ADD COLUMN "uses" INTEGER NOT NULL DEFAULT 0;
