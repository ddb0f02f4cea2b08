package org.llmkit.api.model;

import org.llmkit.api.tensor.TorchOps;

/**
 * Which implementation the hot ops use: torch's fused kernels through TorchScript ({@code fused}:
 * scaled-dot-product attention, RMSNorm) or the same math composed from DJL ops (the slow twin, kept
 * to check the fast path against). BF16 always uses the fused kernels.
 *
 * @param ops torch's own ops
 * @param fused whether attention and RMSNorm use the fused kernels
 * @param type the model's tensor type
 * @param cpu whether the weights live on the CPU (oneDNN's inner product is a CPU kernel)
 */
record Kernels(TorchOps ops, boolean fused, TensorType type, boolean cpu) {

    /**
     * Whether linear layers may use oneDNN's inner product in this forward: fused kernels, on the CPU, a
     * type oneDNN runs (float32, bf16) and no autograd recording (the oneDNN op has no backward).
     *
     * @param ctx the forward's context
     * @return true for oneDNN
     */
    boolean oneDnnLinear(ForwardContext ctx) {
        return oneDnn() && ctx.inference;
    }

    /**
     * Whether linear layers run through oneDNN's differentiable inner product in this forward: a recording
     * (training) forward of a float32 model on the CPU with the fused kernels, in a process whose glibc keeps freed
     * memory ({@link NativeMemory}). Measured here (2-core AMD EPYC, {@code LinearKernelBenchmark}, 1024 rows,
     * forward + backward): with the malloc settings oneDNN ran 240-260 GFLOP/s for every projection shape and 141
     * for a 32000-word head, where libtorch's MKL GEMM reached 127-154. With glibc's defaults, oneDNN's layout
     * conversions fault fresh pages in every step and it lost to MKL on square, narrowing and head shapes, so the
     * training path then stays on MKL.
     *
     * @param ctx the forward's context
     * @return true for oneDNN
     */
    boolean oneDnnTrainable(ForwardContext ctx) {
        return !ctx.inference && oneDnnTraining();
    }

    /** @return whether a recording forward of this model would use oneDNN's differentiable inner product */
    boolean oneDnnTraining() {
        return fused && cpu && type.precision() == org.llmkit.api.Precision.FP32 && NativeMemory.keepsFreedMemory();
    }

    /** @return whether oneDNN's inner product can run this model's linear layers at inference */
    boolean oneDnn() {
        return fused && cpu && type.precision() != org.llmkit.api.Precision.FP16;
    }
}
