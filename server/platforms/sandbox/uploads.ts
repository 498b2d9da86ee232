// What the sandbox keeps of media on its way in: Instagram containers and
// YouTube resumable upload sessions.

/** An Instagram media container. */
export interface Container {
  igUserId: string;
  caption: string;
  mediaUrl: string;
  published: boolean;
  video: boolean;
  /** Made with is_carousel_item=true: only a carousel may name it, it is never published alone. */
  carouselItem?: boolean;
  /** A carousel (media_type=CAROUSEL): its children's container ids, in order. */
  children?: string[];
  /** Sandbox clock and real time at creation: processing ends when either has moved far enough. */
  createdAt: number;
  createdReal: number;
}

/** A YouTube resumable upload session. */
export interface Upload {
  user: string;
  channel: string;
  title: string;
  description: string;
  privacy?: string;
  total?: number;
  received?: number;
  /** The video resource, once every byte arrived (a status query after that answers it again). */
  done?: Record<string, unknown>;
}
