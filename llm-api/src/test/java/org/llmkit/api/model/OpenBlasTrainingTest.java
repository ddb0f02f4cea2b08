package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.llmkit.api.Fixtures;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.LoraConfig;

/**
 * A training micro-batch whose linear layers run on OpenBLAS outside autograd ({@link BlasTape}) gives the loss
 * and every parameter gradient that autograd gives with libtorch's kernels, for every architecture, with padding,
 * packed documents, LoRA and gradient accumulation.
 */
class OpenBlasTrainingTest {
    private static final int[][] RAGGED = {
        {1, 17, 42, 99, 3, 250, 7, 64, 12, 5, 300, 8},
        {9, 8, 7, 6, 5, 4, 3, 2, 1},
    };
    private static final int[][] PACKED = {
        {1, 17, 42, 2, 99, 3, 250, 2, 64, 12, 5, 300},
    };

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama2", "mistral", "qwen2", "gpt2"})
    void everyGradientEqualsAutogradsForEachArchitecture(String name) throws Exception {
        try (LanguageModel model = LanguageModel.load(Fixtures.hfTiny().resolve(name))) {
            trainAll(model);
            assertSameGradients(model, RAGGED, ForwardOptions.DEFAULT, 1);
        }
    }

    @Test
    void attentionTooLargeToKeepOnTheTapeTrainsInTheFusedKernelWithAutogradsGradients() throws Exception {
        int length = 1700;   // 6 heads x 1700^2 float32 probabilities: over the tape's 64 MiB per layer
        assertThat(TapedAttention.keepsLittle(1, 6, length, length)).isFalse();
        int[][] batch = new int[1][length];
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        for (int i = 0; i < length; i++) {
            batch[0][i] = random.nextInt(512);
        }
        try (LanguageModel model = LanguageModel.load(Fixtures.hfTiny().resolve("llama3"))) {
            trainAll(model);
            assertSameGradients(model, batch, ForwardOptions.DEFAULT, 1);
        }
    }

    @Test
    void packedDocumentsAndAccumulatedMicroBatchesGiveAutogradsGradients() throws Exception {
        try (LanguageModel model = LanguageModel.load(Fixtures.hfTiny().resolve("llama3"))) {
            trainAll(model);
            assertSameGradients(model, PACKED, ForwardOptions.DEFAULT.withDocumentSeparator(2), 2);
        }
    }

    @Test
    void loraTrainsOnlyTheAdapterWithAutogradsGradientsAndDropout() throws Exception {
        try (LanguageModel model = LanguageModel.from(Fixtures.hfTiny().resolve("llama3"))
                .adapter(Fixtures.hfTiny().resolve("llama3_lora")).load()) {
            Map<String, Parameter> params = model.block().parameters();
            params.forEach((n, p) -> p.getArray().setRequiresGradient(n.contains("lora_")));
            Map<String, float[]> grads = assertSameGradients(model, RAGGED,
                    ForwardOptions.DEFAULT.withLoraDropout(0.3, 11), 1);
            assertThat(grads).isNotEmpty().allSatisfy((n, g) -> assertThat(n).contains("lora_"));
            params.forEach((n, p) -> {
                if (!n.contains("lora_")) {
                    assertThat(JniUtils.getGradient((PtNDArray) p.getArray())).as(n + " frozen").isNull();
                }
            });
        }
    }

    @Test
    void loraOnEveryProjectionWithoutDropoutGivesAutogradsGradientsOverAccumulatedMicroBatches() throws Exception {
        try (LanguageModel model = LanguageModel.load(Fixtures.hfTiny().resolve("llama3"))) {
            DecoderModel block = model.block();
            attachRandomLoraOnEveryProjection(model);
            Map<String, float[]> grads = assertSameGradients(model, RAGGED, ForwardOptions.DEFAULT, 2);
            assertThat(grads).hasSize(2 * 7 * block.config().numLayers())
                    .allSatisfy((n, g) -> assertThat(n).contains("lora_"));
        }
    }

    @Test
    void gpt2sPeftModulesTrainOneAdapterPerModuleWithAutogradsGradientsAndDropout() throws Exception {
        try (LanguageModel model = LanguageModel.load(Fixtures.hfTiny().resolve("gpt2"))) {
            DecoderModel block = model.block();
            attachRandomLora(model, LoraConfig.of(4, 8, "c_attn", "c_proj", "c_fc"));
            // one mask per module: c_attn's q, k and v branches share theirs, as its one PEFT branch does
            Map<String, float[]> grads = assertSameGradients(model, RAGGED,
                    ForwardOptions.DEFAULT.withLoraDropout(0.3, 11), 2);
            assertThat(grads).hasSize(2 * 4 * block.config().numLayers())
                    .containsKeys("transformer.h.0.attn.c_attn.lora_A.weight", "transformer.h.2.mlp.c_proj.lora_B.weight");
        }
    }

    @Test
    void aBackwardOutsideAGradientCollectorIsRefused() throws Exception {
        try (LanguageModel model = LanguageModel.load(Fixtures.hfTiny().resolve("llama3"));
                NDManager m = model.manager().newSubManager()) {
            assertThatThrownBy(() -> Losses.causalLmBackward(m, model.block(), RAGGED, ForwardOptions.DEFAULT, 1f))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("GradientCollector");
        }
    }

    @Test
    void anUnknownKernelNameInTheSystemPropertyIsRefusedNamingIt() {
        String old = System.getProperty(TrainingGemm.PROPERTY);
        System.setProperty(TrainingGemm.PROPERTY, "cublas");
        try {
            assertThatThrownBy(TrainingGemm::fromSystemProperty).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(TrainingGemm.PROPERTY).hasMessageContaining("cublas");
        } finally {
            if (old == null) {
                System.clearProperty(TrainingGemm.PROPERTY);
            } else {
                System.setProperty(TrainingGemm.PROPERTY, old);
            }
        }
    }

    /**
     * Attaches a rank-4 LoRA adapter on all seven projections with random A and B (PEFT starts B at zero, which would
     * leave every A without a gradient) and makes only the adapter record gradients.
     */
    static void attachRandomLoraOnEveryProjection(LanguageModel model) {
        attachRandomLora(model, LoraConfig.of(4, 8, "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                "down_proj"));
    }

    // attaches the adapter with N(0, 0.05) values and makes only it train
    private static void attachRandomLora(LanguageModel model, LoraConfig config) {
        DecoderModel block = model.block();
        block.attachLora(config);
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        block.adapterShapes().forEach((n, shape) -> {
            float[] values = new float[Math.toIntExact(shape.size())];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (random.nextGaussian() * 0.05);
            }
            block.setWeight(n, model.manager().create(values, shape));
        });
        block.parameters().forEach((n, p) -> p.getArray().setRequiresGradient(n.contains("lora_")));
    }

    private static void trainAll(LanguageModel model) {
        model.block().parameters().values().forEach(p -> p.getArray().setRequiresGradient(true));
    }

    // runs the batch `micro` times on each kernel (accumulating), compares losses and gradients, returns OpenBLAS's;
    // OpenBLAS runs first, on a model whose parameters have no .grad yet (the tape then accumulates through
    // temporaries, and from the second micro-batch on straight into .grad)
    private static Map<String, float[]> assertSameGradients(LanguageModel model, int[][] batch, ForwardOptions options,
            int micro) {
        DecoderModel block = model.block();
        block.parameters().forEach((n, p) -> assertThat(JniUtils.getGradient((PtNDArray) p.getArray()))
                .as(n + " has no gradient yet").isNull());
        block.trainingGemm(TrainingGemm.OPENBLAS);
        float[] blasLoss = run(model, batch, options, micro);
        Map<String, float[]> blas = gradients(block);
        assertThat(block.trainsOnOpenBlas()).isTrue();
        block.trainingGemm(TrainingGemm.LIBTORCH);
        float[] autogradLoss = run(model, batch, options, micro);
        Map<String, float[]> autograd = gradients(block);
        assertThat(block.trainsOnOpenBlas()).isFalse();
        assertThat(blasLoss[0]).isCloseTo(autogradLoss[0], org.assertj.core.data.Offset.offset(1e-5f));
        assertThat(blas.keySet()).isEqualTo(autograd.keySet());
        double worst = 0;
        for (String n : autograd.keySet()) {
            float[] a = autograd.get(n);
            float[] b = blas.get(n);
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                scale = Math.max(scale, Math.abs(a[i]));
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
            }
            assertThat(scale).as(n + " has a gradient").isPositive();
            // a key bias's gradient is zero but for rounding (softmax ignores a shift shared by all keys): 1e-7 floor
            assertThat(diff).as(n + ": max |autograd - OpenBLAS| vs max |autograd| " + scale)
                    .isLessThan(1e-4 * scale + 1e-7);
            if (scale > 1e-5) {
                worst = Math.max(worst, diff / scale);
            }
        }
        System.out.printf("%s: loss %.7f vs %.7f, %d gradients, worst relative difference %.2e (gradients > 1e-5)%n",
                block.config().modelType(), autogradLoss[0], blasLoss[0], autograd.size(), worst);
        return blas;
    }

    private static float[] run(LanguageModel model, int[][] batch, ForwardOptions options, int micro) {
        float[] losses = new float[micro];
        try (NDManager m = model.manager().newSubManager()) {
            for (int k = 0; k < micro; k++) {
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    losses[k] = Losses.causalLmBackward(m, model.block(), batch, options, 1f / micro);
                }
            }
        }
        return losses;
    }

    /** Copies every defined gradient of the model's parameters and clears it. */
    static Map<String, float[]> gradients(DecoderModel block) {
        Map<String, float[]> out = new LinkedHashMap<>();
        block.parameters().forEach((n, p) -> {
            NDArray a = p.getArray();
            if (a.hasGradient()) {
                NDArray g = JniUtils.getGradient((PtNDArray) a);
                if (g != null) {
                    out.put(n, g.toFloatArray());
                    g.close();
                    JniUtils.zeroGrad((PtNDArray) a);
                }
            }
        });
        return out;
    }
}
