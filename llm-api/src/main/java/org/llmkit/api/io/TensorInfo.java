package org.llmkit.api.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * Location and layout of one tensor inside a safetensors file.
 *
 * <p>{@code begin} and {@code end} are <em>absolute</em> byte offsets in the file (header
 * included), so the tensor occupies bytes {@code [begin, end)}; the header's relative
 * {@code data_offsets} have already had {@code 8 + headerLength} added. The data is
 * little-endian and row-major: for shape {@code [rows, cols]}, element {@code (r, c)} starts at
 * byte {@code begin + (r * cols + c) * dtype.byteSize()}. A scalar has shape {@code []} and one
 * element.
 *
 * <p>The shape array is copied on construction and on every {@link #shape()} call, so instances
 * are immutable; {@link #equals(Object)}, {@link #hashCode()} and {@link #toString()} compare and
 * print the shape by content.
 *
 * @param name the tensor name, for example {@code "model.embed_tokens.weight"}
 * @param dtype the element type
 * @param shape the dimensions, outermost first; every entry {@code >= 0}
 * @param begin absolute offset of the first byte
 * @param end absolute offset one past the last byte; {@code end - begin} must equal
 *     {@code product(shape) * dtype.byteSize()}
 */
public record TensorInfo(String name, TensorDType dtype, long[] shape, long begin, long end) {

    /**
     * Validates and defensively copies the components.
     *
     * @param name the tensor name
     * @param dtype the element type
     * @param shape the dimensions, copied
     * @param begin absolute offset of the first byte
     * @param end absolute offset one past the last byte
     * @throws NullPointerException if name, dtype or shape is null
     * @throws IllegalArgumentException if a dimension is negative, the offsets are negative or
     *     reversed, or the byte length does not match the shape and dtype
     */
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = Objects.requireNonNull(shape, "shape").clone();
        long expected = expectedByteLength(name, dtype, shape);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("tensor \"" + name + "\": invalid byte range [" + begin + ", "
                    + end + "); expected 0 <= begin <= end");
        }
        if (end - begin != expected) {
            throw new IllegalArgumentException("tensor \"" + name + "\": byte range [" + begin + ", " + end
                    + ") holds " + (end - begin) + " bytes but shape " + Arrays.toString(shape) + " of "
                    + dtype + " needs " + expected);
        }
    }

    /**
     * Returns a copy of the shape.
     *
     * @return the dimensions, outermost first ({@code []} for a scalar)
     */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Returns the number of dimensions.
     *
     * @return {@code shape().length}
     */
    public int rank() {
        return shape.length;
    }

    /**
     * Returns the number of elements, the product of the shape (1 for a scalar).
     *
     * @return the element count
     */
    public long elementCount() {
        long count = 1;
        for (long dim : shape) {
            count *= dim;
        }
        return count;
    }

    /**
     * Returns the number of data bytes, {@code end - begin}.
     *
     * @return {@code elementCount() * dtype().byteSize()}
     */
    public long byteLength() {
        return end - begin;
    }

    /**
     * Compares all components, the shape by content.
     *
     * @param other the object to compare with
     * @return whether {@code other} is a {@code TensorInfo} with equal components
     */
    @Override
    public boolean equals(Object other) {
        return other instanceof TensorInfo that
                && name.equals(that.name)
                && dtype == that.dtype
                && Arrays.equals(shape, that.shape)
                && begin == that.begin
                && end == that.end;
    }

    /**
     * Hashes all components, the shape by content.
     *
     * @return the hash code
     */
    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    /**
     * Describes the tensor, for example
     * {@code TensorInfo[name=model.norm.weight, dtype=F32, shape=[96], begin=1578280, end=1578664]}.
     *
     * @return a readable description
     */
    @Override
    public String toString() {
        return "TensorInfo[name=" + name + ", dtype=" + dtype + ", shape=" + Arrays.toString(shape)
                + ", begin=" + begin + ", end=" + end + "]";
    }

    /**
     * Computes {@code product(shape) * dtype.byteSize()}, rejecting negative dimensions and
     * overflow.
     *
     * @param name the tensor name, for messages
     * @param dtype the element type
     * @param shape the dimensions
     * @return the byte length the tensor must have
     * @throws IllegalArgumentException on a negative dimension or a size beyond {@code Long.MAX_VALUE}
     */
    static long expectedByteLength(String name, TensorDType dtype, long[] shape) {
        long bytes = dtype.byteSize();
        for (long dim : shape) {
            if (dim < 0) {
                throw new IllegalArgumentException("tensor \"" + name + "\": shape " + Arrays.toString(shape)
                        + " has a negative dimension; every dimension must be >= 0");
            }
            try {
                bytes = Math.multiplyExact(bytes, dim);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("tensor \"" + name + "\": shape " + Arrays.toString(shape)
                        + " of " + dtype + " has more than " + Long.MAX_VALUE + " bytes", e);
            }
        }
        return bytes;
    }
}
