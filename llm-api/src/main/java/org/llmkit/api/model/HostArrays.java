package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * libtorch arrays as the host sees them for OpenBLAS ({@link BlasTape}, {@link TapedLinear}, {@link LoraBranches},
 * {@link TapedAttention}): float32 views of their own memory, and gradients added to parameters' {@code .grad} as
 * autograd would add them.
 */
final class HostArrays {
    private HostArrays() { }

/**
 * Adds {@code g} to a leaf's {@code .grad} (allocating it the first time), as autograd would.
 *
 * @param leaf a parameter that requires gradients
 * @param g its gradient, of its shape
 */
static void accumulateGradient(NDArray leaf, NDArray g) {
    JniUtils.backward(pt(leaf), pt(g), false, false);
}

/** A product written into {@code c} with {@code c = product + beta · c}. */
@FunctionalInterface
interface ProductInto {
    /**
     * @param c where the product goes
     * @param beta 0 (overwrite) or 1 (add to what {@code c} holds)
     */
    void run(FloatBuffer c, float beta);
}

/**
 * Adds a product to a leaf's {@code .grad}, as {@link #accumulateGradient} would: straight into the gradient's
 * memory ({@code beta = 1}) when it already exists as a contiguous float32 array (from the second step on, as
 * optimizers zero gradients in place), else through a temporary. The first spares a weight-sized temporary and
 * a pass over it per step.
 *
 * @param manager where a temporary may be created
 * @param leaf a parameter that requires gradients
 * @param product the product, of the leaf's shape
 */
static void accumulateProduct(NDManager manager, NDArray leaf, ProductInto product) {
    NDArray grad = JniUtils.getGradient(pt(leaf));
    if (grad != null) {
        try {
            if (grad.getDataType() == DataType.FLOAT32 && grad.getShape().equals(leaf.getShape())
                    && TorchTensors.isContiguous(grad)) {
                product.run(floats(grad), 1f);
                return;
            }
        } finally {
            grad.close();
        }
    }
    NDArray g = manager.create(leaf.getShape(), DataType.FLOAT32);
    product.run(floats(g), 0f);
    accumulateGradient(leaf, g);
    g.close();
}

/** @return the array as libtorch's */
static PtNDArray pt(NDArray a) {
    return (PtNDArray) a;
}

/**
 * The array's float32 values: its own memory when contiguous (writes reach the array), else a contiguous copy
 * (for reading only).
 *
 * @param a a float32 array
 * @return its values from position 0
 */
static FloatBuffer floats(NDArray a) {
    if (a.getDataType() != DataType.FLOAT32) {
        throw new IllegalStateException("OpenBLAS training GEMMs need float32 arrays, found " + a.getDataType());
    }
    return JniUtils.getByteBuffer(pt(a), true).order(ByteOrder.nativeOrder()).asFloatBuffer();
}

/** @return {@code b} from {@code offset} on, sharing its memory */
static FloatBuffer from(FloatBuffer b, int offset) {
    return b.slice(offset, b.capacity() - offset);
}
}
