import { defaultRoomDocument } from "@atelier/protocol";

export default function Home() {
  const d = defaultRoomDocument();
  return <main className="p-8 text-xl">Atelier {d.size}</main>;
}
