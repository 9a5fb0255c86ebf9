import { CardGridSkeleton } from "@/components/card-grid-skeleton";

export default function Loading() {
  return <CardGridSkeleton />;
}
