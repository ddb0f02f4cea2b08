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
    private final DataType target;
    private final Path folder;

    /**
     * Creates a source.
     *
     * @param files the opened checkpoint
     * @param folder the model folder (for messages)
     * @param manager owner of the arrays
     * @param target FLOAT32 or FLOAT16
     */
    public CheckpointTensorSource(CheckpointFiles files, Path folder, NDManager manager, DataType target) {
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
            case F32 -> mapped(name, shape, DataType.FLOAT32, info);
            case F16 -> mapped(name, shape, DataType.FLOAT16, info);
            case BF16 -> widenBf16(name, shape, info);
            default -> throw new ModelFormatException(files.fileOf(name), "tensor '" + name + "' has dtype "
                    + info.dtype() + "; model weights must be F32, F16 or BF16");
        };
        if (loaded.getDataType() != target) {
            NDArray converted = loaded.toType(target, false);
            loaded.close();
            return converted;
        }
        return loaded;
    }

    private NDArray mapped(String name, Shape shape, DataType type, TensorInfo info) throws IOException {
        long bytes = info.byteLength();
        if (bytes <= Integer.MAX_VALUE) {
            return manager.create(files.map(name).order(ByteOrder.nativeOrder()), shape, type);
        }
        return inRowChunks(name, shape, info, type);
    }

    private NDArray widenBf16(String name, Shape shape, TensorInfo info) throws IOException {
        return inRowChunks(name, shape, info, DataType.FLOAT32);
    }

    /** Builds a tensor from row chunks (needed beyond 2 GiB, and for bf16 widening). */
    private NDArray inRowChunks(String name, Shape shape, TensorInfo info, DataType type) throws IOException {
        long rows = shape.dimension() == 0 ? 1 : shape.get(0);
        long rowElements = rows == 0 ? 0 : shape.size() / rows;
        int srcSize = info.dtype().byteSize();
        int dstSize = type == DataType.FLOAT32 ? 4 : srcSize;
        long chunkRows = Math.max(1, CHUNK_BYTES / Math.max(1, rowElements * dstSize));
        NDList parts = new NDList();
        try {
            for (long r = 0; r < rows; r += chunkRows) {
                long n = Math.min(chunkRows, rows - r);
                long elements = n * rowElements;
                ByteBuffer src = files.map(name, r * rowElements * srcSize, Math.toIntExact(elements * srcSize));
                ByteBuffer dst;
                if (info.dtype() == TensorDType.BF16) {
                    dst = ByteBuffer.allocateDirect(Math.toIntExact(elements * 4)).order(ByteOrder.nativeOrder());
                    Half.bf16ToF32(src.order(ByteOrder.LITTLE_ENDIAN), dst, elements);
                    dst.rewind();
                } else {
                    dst = src.order(ByteOrder.nativeOrder());
                }
                Shape partShape = shape.dimension() == 0 ? shape : new Shape(n).addAll(shape.slice(1));
                NDArray part = manager.create(dst, partShape, type);
                if (info.dtype() == TensorDType.BF16) {
                    // move the widened values into torch-owned memory so the direct buffer can be freed
                    NDArray owned = part.duplicate();
                    part.close();
                    part = owned;
                }
                parts.add(part);
            }
            if (parts.size() == 1) {
                return parts.get(0);
            }
            NDArray whole = NDArrays.concat(parts, 0);
            parts.close();
            return whole;
        } catch (ArithmeticException e) {
            throw new ModelFormatException(files.fileOf(name), "tensor '" + name + "' row too large to read", e);
        }
    }

    private static String tail(String name) {
        int dot = name.lastIndexOf('.', name.lastIndexOf('.') - 1);
        return dot < 0 ? name : name.substring(dot);
    }
}
