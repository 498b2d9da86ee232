// What the sandbox keeps of media on its way in: Instagram containers,
// YouTube resumable upload sessions and X media uploads.

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

/**
 * An X media upload: an image in one call, or a chunked video (initialize →
 * append by segment → finalize → processing → usable in a post).
 */
export interface XMedia {
  user: string;
  category: string;
  mediaType: string;
  /** Declared at initialize (video); the image's size. */
  totalBytes: number;
  /** Bytes received per segment_index: a segment sent again replaces itself. */
  segments: number[];
  /** Sandbox clock at initialize: the upload session and the media id expire 24 hours later. */
  createdAt: number;
  /** Sandbox clock and real time at finalize (an image is final at once): processing runs from here. */
  finalizedAt?: number;
  finalizedReal?: number;
  /** Processing ends failed with this message (xVideoProcessingError when finalized). */
  failWith?: string;
}
