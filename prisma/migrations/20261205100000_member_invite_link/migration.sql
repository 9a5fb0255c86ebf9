-- the invite link a member joined with (issue 26: removing a member revokes it)
ALTER TABLE "RoomMember" ADD COLUMN "inviteToken" TEXT;
