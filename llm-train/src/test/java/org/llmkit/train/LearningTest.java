package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.TokenDataset;

/** Training actually learns: from scratch, and with LoRA on a frozen base. */
class LearningTest {

    @Test
    void fromScratchCutsValidationPerplexityFourfoldAndWritesMetrics(@TempDir Path logs) throws Exception {
        TokenDataset train = Corpus.sequences(64, 16, 1);
        TokenDataset validation = Corpus.sequences(16, 16, 2);
        try (LanguageModel m = Corpus.tinyModel(7)) {
            TrainingResult r = FineTuner.of(m).learningRate(1e-2).warmupSteps(5).schedule(Schedule.COSINE)
                    .batchSize(8).maxSteps(60).weightDecay(0.01).evaluateEvery(30, validation).logTo(logs)
                    .logEvery(20).train(train);
            List<Evaluation> evals = r.evaluations();
            assertThat(evals).extracting(Evaluation::step).containsExactly(0L, 30L, 60L);
            double before = evals.get(0).perplexity();
            double after = evals.get(evals.size() - 1).perplexity();
            assertThat(before).isGreaterThan(20);            // near-uniform over 32 tokens at the start
            assertThat(after).isLessThan(before / 4);
            assertThat(r.tokensPerSecond()).isPositive();
            assertThat(r.learningRates().get(0)).isZero();   // warmup starts at 0
            assertThat(Files.readAllLines(logs.resolve("metrics.jsonl"))).hasSize(60 + 3);
            assertThat(Files.size(logs.resolve("loss.png"))).isGreaterThan(1000);
            System.out.printf("from scratch: ppl %.2f -> %.2f, %.0f tokens/s%n", before, after, r.tokensPerSecond());
        }
    }

    @Test
    void loraLowersHeldOutLossAndLeavesBaseWeightsBitIdentical() throws Exception {
        TokenDataset train = Corpus.sequences(64, 16, 3);
        TokenDataset validation = Corpus.sequences(16, 16, 4);
        try (LanguageModel m = Corpus.tinyModel(11)) {
            Map<String, float[]> base = Corpus.baseWeights(m);
            double before = m.loss(all(validation));
            TrainingResult r = FineTuner.of(m).lora(8, 16, "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
                    .learningRate(3e-2).batchSize(8).maxSteps(60).train(train);
            double after = m.loss(all(validation));
            assertThat(after).isLessThan(before - 0.2);   // measured: 3.47 -> 3.08 nats on a random N(0, 0.02) base
            assertThat(m.adapter()).isPresent();
            Map<String, float[]> now = Corpus.baseWeights(m);
            for (Map.Entry<String, float[]> e : base.entrySet()) {
                assertThat(now.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            }
            assertThat(r.trainableParameters()).isEqualTo(
                    m.block().adapterShapes().values().stream().mapToLong(ai.djl.ndarray.types.Shape::size).sum());
            System.out.printf("LoRA: held-out loss %.3f -> %.3f, %.0f tokens/s%n", before, after, r.tokensPerSecond());
        }
    }

    @Test
    void loraOnGpt2sPeftModulesLearnsAndSavesAnAdapterPeftLoads(@TempDir Path dir) throws Exception {
        TokenDataset train = Corpus.sequences(64, 16, 3);
        TokenDataset validation = Corpus.sequences(16, 16, 4);
        org.llmkit.api.ModelConfig c = org.llmkit.api.ModelConfig.builder("gpt2").vocabSize(Corpus.VOCAB)
                .hiddenSize(32).intermediateSize(128).numLayers(2).numHeads(4).maxPositionEmbeddings(64).build();
        try (LanguageModel m = LanguageModel.create(c, 11)) {
            Map<String, float[]> base = Corpus.baseWeights(m);
            double before = m.loss(all(validation));
            FineTuner.of(m).lora(8, 16, "c_attn", "c_proj", "c_fc").learningRate(3e-2).batchSize(8).maxSteps(60)
                    .train(train);
            double after = m.loss(all(validation));
            assertThat(after).isLessThan(before - 0.2);
            Map<String, float[]> now = Corpus.baseWeights(m);
            for (Map.Entry<String, float[]> e : base.entrySet()) {
                assertThat(now.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            }
            // PEFT's names for GPT2LMHeadModel: one c_attn adapter per layer spanning q, k and v
            assertThat(m.block().adapterShapes()).containsOnlyKeys(
                    "transformer.h.0.attn.c_attn.lora_A.weight", "transformer.h.0.attn.c_attn.lora_B.weight",
                    "transformer.h.0.attn.c_proj.lora_A.weight", "transformer.h.0.attn.c_proj.lora_B.weight",
                    "transformer.h.0.mlp.c_fc.lora_A.weight", "transformer.h.0.mlp.c_fc.lora_B.weight",
                    "transformer.h.0.mlp.c_proj.lora_A.weight", "transformer.h.0.mlp.c_proj.lora_B.weight",
                    "transformer.h.1.attn.c_attn.lora_A.weight", "transformer.h.1.attn.c_attn.lora_B.weight",
                    "transformer.h.1.attn.c_proj.lora_A.weight", "transformer.h.1.attn.c_proj.lora_B.weight",
                    "transformer.h.1.mlp.c_fc.lora_A.weight", "transformer.h.1.mlp.c_fc.lora_B.weight",
                    "transformer.h.1.mlp.c_proj.lora_A.weight", "transformer.h.1.mlp.c_proj.lora_B.weight");
            m.saveAdapter(dir);
            assertThat(Files.readString(dir.resolve("adapter_config.json"))).contains("\"fan_in_fan_out\" : true");
            System.out.printf("GPT-2 LoRA on c_attn/c_proj/c_fc: held-out loss %.3f -> %.3f%n", before, after);
        }
    }

    private static int[][] all(TokenDataset d) {
        int[][] out = new int[(int) d.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = d.get(i);
        }
        return out;
    }
}
