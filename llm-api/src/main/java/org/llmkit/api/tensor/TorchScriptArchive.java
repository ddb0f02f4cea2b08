package org.llmkit.api.tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A minimal TorchScript module archive written from Java, readable by libtorch's {@code
 * torch::jit::load} without Python.
 *
 * <p>The archive holds one module class {@code __torch__.<className>} with no parameters or
 * buffers, a single attribute {@code training = False}, and the given methods. Its records are
 * the smallest set libtorch 2.7.1 accepts (see {@link #RECORDS}):
 *
 * <pre>
 *   archive/version            "10": newest format libtorch 2.7 reads, so no operator upgraders run
 *   archive/data.pkl           pickle protocol 2: __torch__.ClassName object, state {'training': False}
 *   archive/constants.pkl      pickle protocol 2: () (the module's tensor constants: none)
 *   archive/code/__torch__.py  the class source, compiled by libtorch's TorchScript front end
 * </pre>
 *
 * <p>Entries are written uncompressed (STORED) and each record's data starts on a 64-byte
 * boundary, padded with an extra field the way torch's {@code PyTorchStreamWriter} does it.
 *
 * <p>Method sources are TorchScript functions written at column zero, for example:
 *
 * <pre>
 * def to_bf16(self, x: Tensor) -&gt; Tensor:
 *     return x.to(torch.bfloat16)
 * </pre>
 *
 * <p>Instances are immutable.
 */
public final class TorchScriptArchive {

    /** The record names, relative to the archive root folder, in the order they are written. */
    public static final List<String> RECORDS =
            List.of("version", "data.pkl", "constants.pkl", "code/__torch__.py");

    /** The archive format version written to the {@code version} record. */
    static final String FORMAT_VERSION = "10";

    private static final String ROOT = "archive/";
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String className;
    private final String source;

    private TorchScriptArchive(String className, String source) {
        this.className = className;
        this.source = source;
    }

    /**
     * Makes an archive for a module class with the given methods.
     *
     * @param className the class name inside the {@code __torch__} namespace, a Python identifier
     * @param methodSources TorchScript {@code def} blocks written at column zero; each must take
     *     {@code self} first
     * @return the archive
     * @throws IllegalArgumentException if the class name is not an identifier or no method is
     *     given
     */
    public static TorchScriptArchive of(String className, List<String> methodSources) {
        if (className == null || !IDENTIFIER.matcher(className).matches()) {
            throw new IllegalArgumentException(
                    "className must be a Python identifier such as 'Ops', found: " + className);
        }
        if (methodSources == null || methodSources.isEmpty()) {
            throw new IllegalArgumentException(
                    "a TorchScript module needs at least one method, found none for " + className);
        }
        StringBuilder code = new StringBuilder();
        code.append("class ").append(className).append("(Module):\n");
        code.append("  __parameters__ = []\n");
        code.append("  __buffers__ = []\n");
        code.append("  training : bool\n");
        for (String method : methodSources) {
            if (method == null || !method.strip().startsWith("def ")) {
                throw new IllegalArgumentException(
                        "each method source must start with 'def ', found: " + method);
            }
            for (String line : method.strip().split("\n", -1)) {
                code.append(line.isBlank() ? "" : "  " + line).append('\n');
            }
        }
        return new TorchScriptArchive(className, code.toString());
    }

    /**
     * Returns the class name inside the {@code __torch__} namespace.
     *
     * @return the class name
     */
    public String className() {
        return className;
    }

    /**
     * Returns the generated {@code code/__torch__.py} source.
     *
     * @return the TorchScript class source
     */
    public String source() {
        return source;
    }

    /**
     * Returns the archive as the bytes of a zip file.
     *
     * @return the zip file content
     */
    public byte[] toBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (AlignedZipWriter zip = new AlignedZipWriter(out)) {
            zip.add(ROOT + "version", (FORMAT_VERSION + "\n").getBytes(StandardCharsets.US_ASCII));
            zip.add(ROOT + "data.pkl", modulePickle(className));
            zip.add(ROOT + "constants.pkl", EMPTY_TUPLE_PICKLE.clone());
            zip.add(ROOT + "code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
        }
        return out.toByteArray();
    }

    /**
     * Writes the archive to a file, replacing it if it exists.
     *
     * @param file the file to write
     * @throws IOException if the file cannot be written
     */
    public void writeTo(Path file) throws IOException {
        Files.write(file, toBytes());
    }

    // Pickle protocol 2: PROTO 2, EMPTY_TUPLE, STOP.
    private static final byte[] EMPTY_TUPLE_PICKLE = {(byte) 0x80, 2, ')', '.'};

    /**
     * The module object as torch's own pickler writes it: {@code GLOBAL '__torch__ Name'},
     * EMPTY_TUPLE, NEWOBJ, then the attribute dict and BUILD.
     */
    private static byte[] modulePickle(String className) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80); // PROTO
        p.write(2);
        writeAscii(p, "c__torch__\n" + className + "\n"); // GLOBAL module\nname\n
        p.write(')'); // EMPTY_TUPLE
        p.write(0x81); // NEWOBJ
        p.write('}'); // EMPTY_DICT
        p.write('('); // MARK
        byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
        p.write('X'); // BINUNICODE, 4-byte little-endian length
        p.write(key.length);
        p.write(0);
        p.write(0);
        p.write(0);
        p.writeBytes(key);
        p.write(0x89); // NEWFALSE
        p.write('u'); // SETITEMS
        p.write('b'); // BUILD
        p.write('.'); // STOP
        return p.toByteArray();
    }

    private static void writeAscii(ByteArrayOutputStream out, String text) {
        out.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
    }
}
