import { KObject } from '../refcount.js';

/**
 * A DMA buffer (`struct dma_buf`) with the fields debugfs `dma_buf/bufinfo`
 * shows. It lives while its file is open (`file_count` references).
 */
export class DmaBuf extends KObject {
  constructor(
    /** Size in bytes. */
    readonly size: number,
    /** The exporter's name (`exp_name`, e.g. `system` for the system heap). */
    readonly exp_name: string,
    /** Inode number of the buffer's file. */
    readonly ino: number,
    /** The name set with DMA_BUF_SET_NAME ('' when none). */
    public name = '',
    /** `file->f_flags` and `f_mode`, as bufinfo prints them (hex). */
    readonly f_flags = 0o2,
    readonly f_mode = 0x3,
  ) {
    super();
  }

  /** `file_count(dmabuf->file)`: the references held (fds, mappings, iterators). */
  get file_count(): number {
    return this.refcnt;
  }
}
