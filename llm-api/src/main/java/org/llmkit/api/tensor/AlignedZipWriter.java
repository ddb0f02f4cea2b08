package org.llmkit.api.tensor;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Writes a zip file of STORED (uncompressed) entries whose data starts on 64-byte boundaries,
 * like torch's {@code PyTorchStreamWriter}: each local header carries an extra field with id
 * {@code "FB"} filled with {@code 'Z'} up to the next boundary. No zip64, no timestamps, so the
 * output is byte-for-byte reproducible. Limited to archives under 4 GiB.
 */
final class AlignedZipWriter implements Closeable {

    /** Record data alignment torch uses (caffe2 {@code kFieldAlignment}). */
    static final int ALIGNMENT = 64;

    private static final int LOCAL_HEADER = 0x04034b50;
    private static final int CENTRAL_HEADER = 0x02014b50;
    private static final int END_OF_CENTRAL = 0x06054b50;
    private static final int LOCAL_HEADER_SIZE = 30;
    private static final int EXTRA_HEADER_SIZE = 4;
    private static final int DOS_DATE_1980_01_01 = 0x0021;

    private final OutputStream out;
    private final List<Entry> entries = new ArrayList<>();
    private long offset;
    private boolean closed;

    private record Entry(byte[] name, long crc, int size, long headerOffset) {}

    AlignedZipWriter(OutputStream out) {
        this.out = out;
    }

    /**
     * Adds one STORED entry.
     *
     * @param name the entry name, with '/' separators
     * @param data the entry content
     * @throws IOException if the stream fails
     */
    void add(String name, byte[] data) throws IOException {
        if (closed) {
            throw new IllegalStateException("zip already closed, cannot add " + name);
        }
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        CRC32 crc = new CRC32();
        crc.update(data);
        // data starts after header + name + extra; pad the extra so that it lands on a boundary
        long unpadded = offset + LOCAL_HEADER_SIZE + nameBytes.length + EXTRA_HEADER_SIZE;
        int padding = (int) ((ALIGNMENT - unpadded % ALIGNMENT) % ALIGNMENT);
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        writeInt(header, LOCAL_HEADER);
        writeShort(header, 20); // version needed: 2.0
        writeShort(header, 0); // flags
        writeShort(header, 0); // method: STORED
        writeShort(header, 0); // time
        writeShort(header, DOS_DATE_1980_01_01);
        writeInt(header, (int) crc.getValue());
        writeInt(header, data.length); // compressed size
        writeInt(header, data.length); // uncompressed size
        writeShort(header, nameBytes.length);
        writeShort(header, EXTRA_HEADER_SIZE + padding);
        header.writeBytes(nameBytes);
        writeShort(header, 0x4246); // "FB"
        writeShort(header, padding);
        for (int i = 0; i < padding; i++) {
            header.write('Z');
        }
        entries.add(new Entry(nameBytes, crc.getValue(), data.length, offset));
        header.writeTo(out);
        out.write(data);
        offset += header.size() + data.length;
    }

    /** Writes the central directory and the end record; does not close the underlying stream. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        ByteArrayOutputStream central = new ByteArrayOutputStream();
        for (Entry e : entries) {
            writeInt(central, CENTRAL_HEADER);
            writeShort(central, 20); // version made by
            writeShort(central, 20); // version needed
            writeShort(central, 0); // flags
            writeShort(central, 0); // method: STORED
            writeShort(central, 0); // time
            writeShort(central, DOS_DATE_1980_01_01);
            writeInt(central, (int) e.crc());
            writeInt(central, e.size());
            writeInt(central, e.size());
            writeShort(central, e.name().length);
            writeShort(central, 0); // extra length
            writeShort(central, 0); // comment length
            writeShort(central, 0); // disk number
            writeShort(central, 0); // internal attributes
            writeInt(central, 0); // external attributes
            writeInt(central, (int) e.headerOffset());
            central.writeBytes(e.name());
        }
        int centralSize = central.size();
        writeInt(central, END_OF_CENTRAL);
        writeShort(central, 0); // this disk
        writeShort(central, 0); // disk with the central directory
        writeShort(central, entries.size());
        writeShort(central, entries.size());
        writeInt(central, centralSize);
        writeInt(central, (int) offset); // central directory offset
        writeShort(central, 0); // comment length
        central.writeTo(out);
        out.flush();
    }

    private static void writeShort(ByteArrayOutputStream out, int v) {
        out.write(v & 0xff);
        out.write((v >>> 8) & 0xff);
    }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        writeShort(out, v & 0xffff);
        writeShort(out, (v >>> 16) & 0xffff);
    }
}
