package org.llmkit.api.model;

import java.util.Locale;

/**
 * Which kernel runs the linear layers' matrix products of a float32 training step on the CPU (forward and
 * backward). They are most of a step's work.
 *
 * <p>Measured forward + backward on a 2-core AMD EPYC (Zen 5), 1024 rows: OpenBLAS 0.3.19 with its SkylakeX
 * kernels ran 310-337 GFLOP/s on every projection and head shape of 20M and 100M Llamas; libtorch's oneDNN inner
 * product 240-260 on projections and 141 on a 32000-word head, its MKL GEMM 127-154. OpenBLAS with its Haswell
 * (AVX2) kernels reached only 180-197, so the choice depends on the CPU and on {@code OPENBLAS_CORETYPE} (needed on
 * CPUs newer than OpenBLAS 0.3.19, e.g. {@code SkylakeX} on AMD Zen 4/5).
 */
public enum TrainingGemm {
    /**
     * OpenBLAS when the process's idle worker threads yield their cores ({@link WorkerThreads}), unless libtorch ran
     * the first layer's forward GEMMs in under four fifths of OpenBLAS's time at the first training forward (timed
     * once); else libtorch. The margin is the rest of the step: the OpenBLAS tape runs attention, norms, the loss
     * and LoRA branches faster than autograd, so with equal GEMM times its steps are much shorter (measured on a
     * 20M Llama: GEMMs within 10% of each other, full fine-tuning 1.4-1.6 times as fast on the tape), and with
     * libtorch's GEMMs at 0.71-0.80 of OpenBLAS's time both trained within 15% of each other.
     */
    AUTO,
    /** OpenBLAS {@code sgemm} outside autograd, backward by hand ({@link BlasTape}). */
    OPENBLAS,
    /** libtorch's own kernels under autograd (oneDNN or MKL, see {@link Kernels#oneDnnTrainable}). */
    LIBTORCH;

    /** The system property that sets the default for new models: {@code auto}, {@code openblas} or {@code libtorch}. */
    public static final String PROPERTY = "llmkit.train.gemm";

    /**
     * The default for new models: the {@link #PROPERTY} system property, else {@link #AUTO}.
     *
     * @return the choice
     * @throws IllegalArgumentException naming the property when its value is not one of the three
     */
    public static TrainingGemm fromSystemProperty() {
        String value = System.getProperty(PROPERTY, "auto").trim();
        try {
            return valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("system property " + PROPERTY
                    + " must be auto, openblas or libtorch, found '" + value + "'", e);
        }
    }
}
