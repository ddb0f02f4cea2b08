package org.llmkit.api.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.llmkit.api.Precision;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mutable training state of one {@link DecoderModel}: which kernel runs its float32 training GEMMs on the CPU
 * ({@link TrainingGemm}, decided once, at the first training forward) and its open BF16 {@link Autocast}, if any.
 * The model's weights and config stay immutable beside it; the model's public methods delegate here.
 */
final class TrainingKernel {
    /**
     * Under {@link TrainingGemm#AUTO}, libtorch trains only when its timed GEMMs take less than this share of
     * OpenBLAS's time ({@link #openBlasWins}).
     */
    static final double LIBTORCH_SHARE = 0.8;

    private static final Logger LOG = LoggerFactory.getLogger(DecoderModel.class);

    private final Kernels kernels;
    private final Supplier<List<Projection>> firstLayer;
    private final Supplier<NDManager> weightsManager;
    private TrainingGemm choice = TrainingGemm.fromSystemProperty();
    private Boolean openBlas;
    private Autocast autocast;

    /**
     * @param kernels the model's kernels
     * @param firstLayer the first layer's projections, which the choice times
     * @param weightsManager the manager of the model's weights (loaded by the time a training forward asks)
     */
    TrainingKernel(Kernels kernels, Supplier<List<Projection>> firstLayer, Supplier<NDManager> weightsManager) {
        this.kernels = kernels;
        this.firstLayer = firstLayer;
        this.weightsManager = weightsManager;
    }

    /** See {@link DecoderModel#trainingGemm(TrainingGemm)}. */
    synchronized void choose(TrainingGemm next) {
        this.choice = Objects.requireNonNull(next, "choice");
        openBlas = null;
    }

    /** See {@link DecoderModel#trainsOnOpenBlas()}. */
    synchronized boolean chosenOpenBlas() {
        return Boolean.TRUE.equals(openBlas);
    }

    /** See {@link DecoderModel#trainsOnOpenBlas(int)}. */
    synchronized boolean openBlas(int rows) {
        if (!kernels.cpu() || kernels.type().precision() != Precision.FP32
                || choice == TrainingGemm.LIBTORCH || !OpenBlas.available()) {
            return false;
        }
        if (openBlas == null) {
            if (choice == TrainingGemm.OPENBLAS) {
                openBlas = true;
            } else if (!WorkerThreads.yieldCores()) {
                LOG.info("training GEMMs stay in libtorch: OpenBLAS would share the cores with libgomp's spinning"
                        + " workers without " + String.join(" ", WorkerThreads.missingTrainingSettings(System::getenv)));
                openBlas = false;
            } else {
                try (NDManager m = weightsManager.get().newSubManager()) {
                    openBlas = openBlasTrainsFaster(m, rows);
                }
            }
        }
        return openBlas;
    }

    /** See {@link DecoderModel#autocastBf16(int)}. */
    synchronized Autocast openAutocast(int rows) {
        if (autocast != null) {
            throw new IllegalStateException("a BF16 autocast of this model is open already");
        }
        if (!openBlas(rows)) {
            throw new IllegalStateException("BF16 autocast needs the training forwards' linear layers on OpenBLAS "
                    + "(a float32 model on the CPU, TrainingGemm OPENBLAS or AUTO choosing it); this model's training "
                    + "GEMMs run in libtorch");
        }
        autocast = new Autocast(this, kernels.ops(), weightsManager.get().newSubManager());
        return autocast;
    }

    /** See {@link DecoderModel#autocastOpen()}. */
    synchronized boolean autocastOpen() {
        return autocast != null;
    }

    /** Called by {@link Autocast#close()}. */
    synchronized void endAutocast(Autocast a) {
        if (autocast == a) {
            autocast = null;
        }
    }

    /**
     * The tape of a training forward whose linear layers run on OpenBLAS, or null when they run in autograd:
     * autograd recording and {@link #openBlas(int)}. Under an open {@link Autocast} the tape multiplies in bfloat16.
     *
     * @param m the forward's manager
     * @param rows tokens in the forward's batch
     * @return the tape, or null
     * @throws IllegalStateException when an autocast is open but the linear layers no longer run on OpenBLAS
     */
    synchronized BlasTape tape(NDManager m, int rows) {
        if (!JniUtils.isGradMode()) {
            return null;
        }
        if (!openBlas(rows)) {
            if (autocast != null) {
                throw new IllegalStateException("a BF16 autocast is open, but this model's training GEMMs now run "
                        + "in libtorch (trainingGemm changed?): close the autocast first");
            }
            return null;
        }
        return new BlasTape(m, kernels.ops(), autocast);
    }

    /**
     * The rule of {@link TrainingGemm#AUTO} on the timed GEMMs: OpenBLAS unless libtorch took under {@link
     * #LIBTORCH_SHARE} of its time.
     *
     * @param blasNanos OpenBLAS's time
     * @param torchNanos libtorch's time for the same products
     * @return whether OpenBLAS trains
     */
    static boolean openBlasWins(long blasNanos, long torchNanos) {
        return torchNanos >= LIBTORCH_SHARE * blasNanos;
    }

    // times the first layer's projections (forward GEMMs of up to 512 rows) on OpenBLAS and on the kernel autograd
    // would use, alternating, each OpenBLAS pass after a pause (libtorch's OpenMP workers spin for a while after
    // each of its parallel regions and would take a core from OpenBLAS's threads); the best of five counts.
    // libtorch wins only when its GEMMs take under LIBTORCH_SHARE of OpenBLAS's time: the tape does the rest of the
    // step (attention, norms, loss, LoRA branches) faster than autograd, so at equal GEMM times the tape's steps are
    // much shorter (m20 full fine-tuning here: GEMMs 7.2 against 8.0 ms, steps 1505-1633 against 1046 tok/s), and a
    // bare "faster" on those near-equal timings picked libtorch in one start of three. With OpenBLAS's AVX2 kernels
    // (libtorch's GEMMs at 0.71-0.80 of its time) both kernels trained within 15% of each other either way.
    private boolean openBlasTrainsFaster(NDManager manager, int rows) {
        List<Projection> projections = firstLayer.get();
        long blas = Long.MAX_VALUE;
        long torch = Long.MAX_VALUE;
        try (NoGradient off = NoGradient.scope(); NDManager m = manager.newSubManager()) {
            int n = Math.max(16, Math.min(rows, 512));
            NDArray[] xs = new NDArray[projections.size()];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = m.randomNormal(new Shape(n, projections.get(i).weightArray().getShape().get(1)));
            }
            for (int rep = 0; rep < 6; rep++) {
                HostDecoder.pause(25);
                long t0 = System.nanoTime();
                for (int i = 0; i < xs.length; i++) {
                    BlasTape.product(m, xs[i], projections.get(i).weightArray()).close();
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < xs.length; i++) {
                    NDArray w = projections.get(i).weightArray();
                    (kernels.oneDnnTraining() ? kernels.ops().linearTrainable(xs[i], w, null)
                            : Linear.linear(xs[i], w).singletonOrThrow()).close();
                }
                long t2 = System.nanoTime();
                if (rep > 0) {
                    blas = Math.min(blas, t1 - t0);
                    torch = Math.min(torch, t2 - t1);
                }
            }
        }
        boolean faster = openBlasWins(blas, torch);
        LOG.info("training GEMMs of one layer: OpenBLAS {} us, libtorch ({}) {} us -> {}", blas / 1000,
                kernels.oneDnnTraining() ? "oneDNN" : "MKL", torch / 1000, faster ? "OpenBLAS" : "libtorch");
        return faster;
    }
}
