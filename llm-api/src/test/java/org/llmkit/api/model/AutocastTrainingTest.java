package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llmkit.api.Fixtures;
import org.llmkit.api.LanguageModel;

/**
 * Under BF16 autocast ({@link DecoderModel#autocastBf16}) a training micro-batch on the OpenBLAS tape multiplies in
 * bfloat16: its loss and every gradient track float32's within bfloat16's precision, yet differ from them; frozen
 * weights are rounded once; closing returns the model to float32 exactly.
 */
class AutocastTrainingTest {
    private static final int[][] BATCH = {
        {1, 17, 42, 99, 3, 250, 7, 64, 12, 5, 300, 8},
        {9, 8, 7, 6, 5, 4, 3, 2, 1},
    };
    /** bfloat16 keeps 8 significant bits: a product's relative error is ~2^-9 per rounding, a few through layers. */
    private static final double GRADIENT_TOLERANCE = 0.05;

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen2", "gpt2"})
    void everyGradientTracksFloat32WithinBf16PrecisionButIsNotFloat32s(String name) throws Exception {
        try (LanguageModel model = LanguageModel.load(Fixtures.hfTiny().resolve(name))) {
            DecoderModel block = model.block();
            block.parameters().values().forEach(p -> p.getArray().setRequiresGradient(true));
            block.trainingGemm(TrainingGemm.OPENBLAS);
            float fp32Loss = run(model);
            Map<String, float[]> fp32 = OpenBlasTrainingTest.gradients(block);
            float bf16Loss;
            Map<String, float[]> bf16;
            try (Autocast autocast = block.autocastBf16(BATCH.length * BATCH[0].length)) {
                bf16Loss = run(model);
                bf16 = OpenBlasTrainingTest.gradients(block);
                assertThat(autocast.frozenStacks()).as("nothing is frozen").isZero();
            }
            assertThat(bf16Loss).isCloseTo(fp32Loss, org.assertj.core.data.Offset.offset(1e-2f * fp32Loss));
            assertThat(bf16Loss).as("bf16 products change the loss").isNotEqualTo(fp32Loss);
            assertThat(bf16.keySet()).isEqualTo(fp32.keySet()).isNotEmpty();
            double worst = 0;
            for (String n : fp32.keySet()) {
                double[] d = difference(fp32.get(n), bf16.get(n));
                assertThat(d[1]).as(n + ": max |fp32 - bf16| vs max |fp32| " + d[0])
                        .isLessThan(GRADIENT_TOLERANCE * d[0] + 1e-6);
                if (d[0] > 1e-5) {
                    worst = Math.max(worst, d[1] / d[0]);
                }
            }
            assertThat(worst).as("some gradient shows bf16 rounding").isGreaterThan(1e-4);
            System.out.printf("%s autocast: loss %.6f vs %.6f, worst relative gradient difference %.2e%n", name,
                    bf16Loss, fp32Loss, worst);
        }
    }

    @Test
    void loraRoundsTheFrozenBaseOnceAndClosingReturnsToFloat32Exactly() throws Exception {
        try (LanguageModel model = LanguageModel.load(Fixtures.hfTiny().resolve("llama3"))) {
            DecoderModel block = model.block();
            OpenBlasTrainingTest.attachRandomLoraOnEveryProjection(model);
            block.trainingGemm(TrainingGemm.OPENBLAS);
            run(model);
            Map<String, float[]> fp32 = OpenBlasTrainingTest.gradients(block);
            try (Autocast autocast = block.autocastBf16(64)) {
                run(model);
                // q/k/v, o, gate/up and down per layer, and the output projection
                int stacks = 4 * block.config().numLayers() + 1;
                assertThat(autocast.frozenStacks()).isEqualTo(stacks);
                run(model);
                assertThat(autocast.frozenStacks()).as("rounded once, kept").isEqualTo(stacks);
                Map<String, float[]> bf16 = OpenBlasTrainingTest.gradients(block);
                assertThat(bf16).hasSize(2 * 7 * block.config().numLayers());
                bf16.forEach((n, g) -> {
                    // two micro-batches accumulated
                    double[] d = difference(scaled(fp32.get(n), 2), g);
                    assertThat(d[1]).as(n).isLessThan(GRADIENT_TOLERANCE * d[0] + 1e-6);
                });
                block.parameters().forEach((n, p) -> {
                    if (!n.contains("lora_")) {
                        assertThat(JniUtils.getGradient((PtNDArray) p.getArray())).as(n + " frozen").isNull();
                    }
                });
            }
            run(model);
            Map<String, float[]> again = OpenBlasTrainingTest.gradients(block);
            fp32.forEach((n, g) -> assertThat(again.get(n)).as(n).containsExactly(g));
        }
    }

    @Test
    void autocastIsRefusedWhereTrainingGemmsRunInLibtorchAndAnOpenOneIsNeverIgnored() throws Exception {
        try (LanguageModel model = LanguageModel.load(Fixtures.hfTiny().resolve("llama3"))) {
            DecoderModel block = model.block();
            block.parameters().values().forEach(p -> p.getArray().setRequiresGradient(true));
            block.trainingGemm(TrainingGemm.LIBTORCH);
            assertThatThrownBy(() -> block.autocastBf16(64)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("OpenBLAS");
            block.trainingGemm(TrainingGemm.OPENBLAS);
            try (Autocast autocast = block.autocastBf16(64)) {
                assertThatThrownBy(() -> block.autocastBf16(64)).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("open already");
                block.trainingGemm(TrainingGemm.LIBTORCH);
                assertThatThrownBy(() -> run(model)).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("autocast");
            }
            OpenBlasTrainingTest.gradients(block);
            assertThat(run(model)).as("closed: float32 in libtorch again").isPositive();
        }
    }

    @Test
    void theLossUnderAutocastIsTheSameInBlocksOfAnySizeAndTracksFloat32s() throws Exception {
        try (LanguageModel model = LanguageModel.load(Fixtures.hfTiny().resolve("llama3"))) {
            model.block().trainingGemm(TrainingGemm.OPENBLAS);
            int rows = 22;
            int width = 16;
            int vocab = 300;
            java.util.SplittableRandom random = new java.util.SplittableRandom(9);
            float[] xs = new float[rows * width];
            float[] ws = new float[vocab * width];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) random.nextGaussian();
            }
            for (int i = 0; i < ws.length; i++) {
                ws[i] = (float) (random.nextGaussian() * 0.3);
            }
            long[] targets = new long[rows];
            float[] weights = new float[rows];
            for (int r = 0; r < rows; r++) {
                targets[r] = random.nextInt(vocab);
                weights[r] = r % 7 == 3 ? 0f : 1f;
            }
            float[][] whole;
            float[][] blocks;
            float[][] fp32;
            try (Autocast autocast = model.block().autocastBf16(rows)) {
                whole = loss(model, autocast, xs, ws, rows, width, vocab, targets, weights, 1024);
                blocks = loss(model, autocast, xs, ws, rows, width, vocab, targets, weights, 5);
            }
            fp32 = loss(model, null, xs, ws, rows, width, vocab, targets, weights, 1024);
            assertThat(blocks[0][0]).isCloseTo(whole[0][0], org.assertj.core.data.Offset.offset(1e-5f));
            for (int k = 1; k < 3; k++) {
                double[] d = difference(whole[k], blocks[k]);
                // x's rows are each one block's; the weight's gradient is a bf16-rounded product per block
                assertThat(d[1]).as("gradient %d in blocks of 5 rows", k).isLessThan((k == 1 ? 1e-3 : 1e-2) * d[0]);
                double[] e = difference(fp32[k], whole[k]);
                assertThat(e[1]).as("gradient %d against float32's", k).isLessThan(GRADIENT_TOLERANCE * e[0])
                        .isPositive();
            }
            assertThat(whole[0][0]).isCloseTo(fp32[0][0], org.assertj.core.data.Offset.offset(1e-2f * fp32[0][0]));
        }
    }

    // {loss}, x's gradient and the projection's, from the tape's loss step in blocks of blockRows
    private static float[][] loss(LanguageModel model, Autocast autocast, float[] xs, float[] ws, int rows, int width,
            int vocab, long[] targets, float[] weights, int blockRows) {
        try (NDManager m = model.manager().newSubManager();
                GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray x = m.create(xs, new ai.djl.ndarray.types.Shape(rows, width));
            NDArray w = m.create(ws, new ai.djl.ndarray.types.Shape(vocab, width));
            x.setRequiresGradient(true);
            w.setRequiresGradient(true);
            BlasTape tape = new BlasTape(m, autocast == null ? null : autocast.ops(), autocast);
            float loss = tape.linearCrossEntropy(tape.cut(x, true), w, targets, weights, 19f, 1f, blockRows);
            tape.backward();
            return new float[][] {{loss}, x.getGradient().toFloatArray(), w.getGradient().toFloatArray()};
        }
    }

    private static float run(LanguageModel model) {
        try (NDManager m = model.manager().newSubManager();
                GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            return Losses.causalLmBackward(m, model.block(), BATCH, ForwardOptions.DEFAULT, 1f);
        }
    }

    // {max |a|, max |a - b|}
    private static double[] difference(float[] a, float[] b) {
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < a.length; i++) {
            scale = Math.max(scale, Math.abs(a[i]));
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        return new double[] {scale, diff};
    }

    private static float[] scaled(float[] a, float factor) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] * factor;
        }
        return out;
    }
}
