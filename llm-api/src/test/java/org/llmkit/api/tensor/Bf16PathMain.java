package org.llmkit.api.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;

/**
 * Runs in a child JVM for {@link JvmDoesNotAbortTest}: with no argument, every bf16 path
 * TorchOps offers; with {@code djl-bf16}, DJL's own {@code toType(BFLOAT16)}, which is known
 * to abort the JVM (exit 134), to prove the test can see an abort.
 */
final class Bf16PathMain {

    /** The line printed when every step finished. */
    static final String DONE = "bf16 path finished";

    private Bf16PathMain() {}

    /**
     * Runs the bf16 path.
     *
     * @param args {@code djl-bf16} to run the known aborting call instead
     */
    public static void main(String[] args) {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                TorchOps ops = TorchOps.load()) {
            NDArray x = manager.randomNormal(new Shape(1, 4, 6, 8)); // [B, H, T, D]
            if (args.length > 0 && "djl-bf16".equals(args[0])) {
                x.toType(DataType.BFLOAT16, false);
            }
            NDArray xb = ops.toBFloat16(x);
            NDArray w = ops.toBFloat16(manager.randomNormal(new Shape(8, 8)));
            NDArray linear = Linear.linear(xb, w).singletonOrThrow();
            NDArray attention =
                    ops.scaledDotProductAttention(linear, xb, xb, null, 0.125, false);
            NDArray normed = ops.rmsNorm(attention, ops.toBFloat16(manager.ones(new Shape(8))), 1e-6);
            NDArray sum = ops.toFloat32(normed.add(xb)).sum();
            NDArray bits = ops.bf16FromBits(manager.zeros(new Shape(2, 4), DataType.UINT8));
            float check = sum.getFloat() + ops.toFloat32(bits).sum().getFloat();
            System.out.println(DONE + " " + Float.isFinite(check) + " " + normed.getDataType());
        }
    }
}
