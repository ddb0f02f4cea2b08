package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.llmkit.api.Precision;
import org.llmkit.api.tensor.TorchOps;

/**
 * The model's weight and activation type, and the casts into and out of it.
 *
 * <p>Every cast goes through {@link TorchOps}' TorchScript methods: DJL's own {@code toType} records no
 * autograd history (a loss after it would not reach the weights), and for bfloat16 it aborts the JVM
 * (DJL-NOTES trap 2). DJL labels bf16 arrays {@link DataType#UNKNOWN}.
 */
public final class TensorType {
    private final Precision precision;
    private final TorchOps ops;

    /**
     * @param precision the model's precision
     * @param ops torch's own ops (for bf16 casts)
     */
    public TensorType(Precision precision, TorchOps ops) {
        this.precision = precision;
        this.ops = ops;
    }

    /** @return torch's own ops */
    public TorchOps ops() {
        return ops;
    }

    /** @return the precision */
    public Precision precision() {
        return precision;
    }

    /**
     * Returns whether an array already has the model's type.
     *
     * @param x an array
     * @return true when no cast is needed
     */
    public boolean matches(NDArray x) {
        return switch (precision) {
            case FP32 -> x.getDataType() == DataType.FLOAT32;
            case FP16 -> x.getDataType() == DataType.FLOAT16;
            case BF16 -> x.getDataType() == DataType.UNKNOWN;
        };
    }

    /**
     * Casts to the model's type.
     *
     * @param x a floating-point array
     * @return {@code x} itself when it already has the type, else a new array in x's manager
     */
    public NDArray cast(NDArray x) {
        if (matches(x)) {
            return x;
        }
        return switch (precision) {
            case FP32 -> ops.toFloat32(x);
            case FP16 -> ops.toFloat16(x);
            case BF16 -> ops.toBFloat16(x);
        };
    }

    /**
     * Casts to float32.
     *
     * @param x an array of the model's type (or float32)
     * @return {@code x} when already float32, else a new array
     */
    public NDArray float32(NDArray x) {
        return x.getDataType() == DataType.FLOAT32 ? x : ops.toFloat32(x);
    }

    /**
     * Allocates zeros of the model's type.
     *
     * @param m the manager
     * @param shape the shape
     * @return the array
     */
    public NDArray zeros(NDManager m, Shape shape) {
        NDArray z = m.zeros(shape, precision == Precision.FP16 ? DataType.FLOAT16 : DataType.FLOAT32);
        if (precision != Precision.BF16) {
            return z;
        }
        NDArray bf = ops.toBFloat16(z);
        z.close();
        return bf;
    }

    /**
     * Returns the most negative finite value of the type: what masked attention scores get (transformers
     * uses {@code torch.finfo(dtype).min}; anything lower would overflow to -inf and turn fully masked rows
     * into NaN).
     *
     * @return the value as a float
     */
    public float lowest() {
        return switch (precision) {
            case FP32 -> -Float.MAX_VALUE;
            case FP16 -> -65504f;
            case BF16 -> Float.intBitsToFloat(0xff7f0000);
        };
    }
}
