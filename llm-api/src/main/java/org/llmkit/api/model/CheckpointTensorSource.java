package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import org.llmkit.api.ModelFormatException;
import org.llmkit.api.Precision;
import org.llmkit.api.io.CheckpointFiles;
import org.llmkit.api.io.Half;
import org.llmkit.api.io.TensorDType;
import org.llmkit.api.io.TensorInfo;

/**
 * Loads safetensors tensors into arrays of the model's type without holding the model in the Java heap.
 *
 * <p>F32 tensors at FP32 are zero-copy: the array is created over a copy-on-write mapping of the file,
 * so the OS pages weights in on first use and the process never holds two copies. F16 tensors are
 * mapped and converted by torch. BF16 tensors are widened to float32 on the host (exact: the bf16 bits
 * are the top half of the float32) in chunks of at most {@value #CHUNK_BYTES} bytes, because DJL 0.36
 * cannot create bfloat16 arrays (DJL-NOTES trap 2).
 */
public final class CheckpointTensorSource implements TensorSource {
    static final int CHUNK_BYTES = 1 << 28;

    private final CheckpointFiles files;
    private final NDManager manager;
    private final TensorType target;
    private final Path folder;

    /**
     * Creates a source.
     *
     * @param files the opened checkpoint
     * @param folder the model folder (for messages)
     * @param manager owner of the arrays
     * @param target the model's tensor type
     */
    public CheckpointTensorSource(CheckpointFiles files, Path folder, NDManager manager, TensorType target) {
        this.files = files;
        this.folder = folder;
        this.manager = manager;
        this.target = target;
    }

    @Override
    public Set<String> names() {
        return files.names();
    }

    @Override
    public NDArray load(String name) throws IOException {
        if (!files.names().contains(name)) {
            String near = files.names().stream().filter(n -> n.endsWith(tail(name))).limit(5)
                    .collect(Collectors.joining(", "));
            throw new ModelFormatException(folder, "missing tensor '" + name + "' (the checkpoint has "
                    + files.names().size() + " tensors" + (near.isEmpty() ? "" : "; similar: " + near) + ")");
        }
        TensorInfo info = files.info(name);
        Shape shape = new Shape(info.shape());
        NDArray loaded = switch (info.dtype()) {
            case F32 -> read(name, shape, info, DataType.FLOAT32);
            case F16 -> read(name, shape, info, DataType.FLOAT16);
            case BF16 -> target.precision() == Precision.BF16 ? read(name, shape, info, DataType.UINT8)
                    : read(name, shape, info, DataType.FLOAT32);
            default -> throw new ModelFormatException(files.fileOf(name), "tensor '" + name + "' has dtype "
                    + info.dtype() + "; model weights must be F32, F16 or BF16");
        };
        NDArray converted = target.cast(loaded);
        if (converted != loaded) {
            loaded.close();
        }
        return converted;
    }

    /**
     * Reads a tensor as {@code type}: FLOAT32/FLOAT16 arrays over the file's own bytes; for BF16 data either
     * FLOAT32 (widened on the host) or, when the model is BF16, bf16 arrays reinterpreted from the raw bytes.
     * Large tensors are read in row chunks of at most {@value #CHUNK_BYTES} bytes and concatenated.
     */
    private NDArray read(String name, Shape shape, TensorInfo info, DataType type) throws IOException {
        long rows = shape.dimension() == 0 ? 1 : shape.get(0);
        long rowElements = rows == 0 ? 0 : shape.size() / rows;
        int srcSize = info.dtype().byteSize();
        boolean widen = info.dtype() == TensorDType.BF16 && type == DataType.FLOAT32;
        int dstSize = widen ? 4 : srcSize;
        long chunkRows = Math.max(1, CHUNK_BYTES / Math.max(1, rowElements * dstSize));
        NDList parts = new NDList();
        try {
            for (long r = 0; r < rows; r += chunkRows) {
                long n = Math.min(chunkRows, rows - r);
                long elements = n * rowElements;
                ByteBuffer src = files.map(name, r * rowElements * srcSize, Math.toIntExact(elements * srcSize));
                Shape partShape = shape.dimension() == 0 ? shape : new Shape(n).addAll(shape.slice(1));
                parts.add(part(src, partShape, elements, info.dtype(), type, widen));
            }
            if (parts.size() == 1) {
                return parts.get(0);
            }
            NDArray whole = NDArrays.concat(parts, 0);
            parts.close();
            return whole;
        } catch (ArithmeticException e) {
            throw new ModelFormatException(files.fileOf(name), "tensor '" + name + "' has a row too large to read", e);
        }
    }

    private NDArray part(ByteBuffer src, Shape shape, long elements, TensorDType stored, DataType type, boolean widen) {
        if (widen) {
            ByteBuffer dst = ByteBuffer.allocateDirect(Math.toIntExact(elements * 4)).order(ByteOrder.nativeOrder());
            Half.bf16ToF32(src.order(ByteOrder.LITTLE_ENDIAN), dst, elements);
            dst.rewind();
            return owned(manager.create(dst, shape, DataType.FLOAT32));
        }
        if (type == DataType.UINT8) {
            // raw bf16 bytes [.., 2N] viewed as bf16 [.., N], then copied so torch owns the memory
            Shape bytes = shape.dimension() == 0 ? new Shape(2)
                    : shape.slice(0, shape.dimension() - 1).add(shape.get(shape.dimension() - 1) * 2);
            try (NDArray raw = manager.create(src.order(ByteOrder.nativeOrder()), bytes, DataType.UINT8);
                    NDArray view = target.ops().bf16FromBits(raw)) {
                NDArray copy = view.duplicate();
                return shape.dimension() == 0 ? copy.reshape(shape) : copy;
            }
        }
        // an array over the (copy-on-write) mapping itself: no copy, pages load on first use
        return manager.create(src.order(ByteOrder.nativeOrder()), shape, type);
    }

    /** Moves an array created over a Java direct buffer into torch-owned memory so the buffer can be freed. */
    private static NDArray owned(NDArray overJavaBuffer) {
        NDArray copy = overJavaBuffer.duplicate();
        overJavaBuffer.close();
        return copy;
    }

    private static String tail(String name) {
        int dot = name.lastIndexOf('.', name.lastIndexOf('.') - 1);
        return dot < 0 ? name : name.substring(dot);
    }
}
