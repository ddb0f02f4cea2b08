package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llmkit.api.generate.BatchDecoder;
import org.llmkit.api.generate.FinishReason;
import org.llmkit.api.generate.GenerationResult;

/**
 * Continuous batching: sequences that join and leave a running batch at different steps, with different prompt
 * lengths and sampling settings, generate exactly what each generates alone.
 */
class ContinuousBatchTest {

    /** Records one sequence's events. */
    static final class Recorder implements BatchDecoder.Listener {
        final StringBuilder pieces = new StringBuilder();
        GenerationResult result;
        Throwable error;

        @Override
        public void onPiece(String piece) {
            pieces.append(piece);
        }

        @Override
        public void onComplete(GenerationResult r) {
            result = r;
        }

        @Override
        public void onFailure(Throwable e) {
            error = e;
        }

        boolean done() {
            return result != null || error != null;
        }
    }

    /** A request joining at a given step. */
    record Arrival(int step, int[] prompt, Function<Generation, Generation> settings) { }

    private static int[] randomPrompt(Random r, int length) {
        int[] p = new int[length];
        for (int i = 0; i < length; i++) {
            p[i] = 3 + r.nextInt(500);
        }
        return p;
    }

    private static List<Arrival> arrivals() {
        Random r = new Random(5);
        return List.of(
                new Arrival(0, randomPrompt(r, 12), g -> g.maxNewTokens(20).greedy().ignoreEos()),
                new Arrival(0, randomPrompt(r, 3), g -> g.maxNewTokens(9).temperature(0.9).seed(11).ignoreEos()),
                new Arrival(2, randomPrompt(r, 25), g -> g.maxNewTokens(14).topK(5).seed(3).ignoreEos()),
                new Arrival(4, randomPrompt(r, 7), g -> g.maxNewTokens(30).greedy().repetitionPenalty(1.3).ignoreEos()),
                new Arrival(4, randomPrompt(r, 1), g -> g.maxNewTokens(1).greedy()),
                new Arrival(6, randomPrompt(r, 18), g -> g.maxNewTokens(16).topP(0.8).temperature(1.2).seed(9)
                        .ignoreEos()));
    }

    /** Runs arrivals through a batch of {@code rows}, admitting each (in order) once its step came and room exists. */
    private static List<Recorder> runBatched(LanguageModel m, List<Arrival> arrivals, int rows, long kvTokens) {
        List<Recorder> recorders = new ArrayList<>();
        try (ContinuousBatch batch = m.continuousBatch(rows, kvTokens)) {
            int next = 0;
            for (int step = 0; next < arrivals.size() || batch.running() > 0; step++) {
                while (next < arrivals.size() && arrivals.get(next).step() <= step) {
                    Generation g = arrivals.get(next).settings().apply(m.generate(arrivals.get(next).prompt()));
                    if (!batch.canAdmit(g)) {
                        break;
                    }
                    Recorder rec = new Recorder();
                    recorders.add(rec);
                    batch.admit(g, rec);
                    next++;
                }
                batch.step();
                assertThat(step).as("the batch makes progress").isLessThan(500);
            }
        }
        return recorders;
    }

    @ParameterizedTest(name = "{0}, fused kernels {1}")
    @CsvSource({"llama3, true", "llama3, false", "mistral, true", "qwen2, true", "gpt2, true", "gpt2, false"})
    void sequencesJoiningAndLeavingGenerateWhatEachGeneratesAlone(String name, boolean fused) throws Exception {
        try (LanguageModel m = LanguageModel.from(Fixtures.model(name)).fusedKernels(fused).load()) {
            List<Arrival> arrivals = arrivals();
            List<Recorder> batched = runBatched(m, arrivals, 3, 10_000);
            assertThat(batched).hasSize(arrivals.size());
            for (int i = 0; i < arrivals.size(); i++) {
                Arrival a = arrivals.get(i);
                GenerationResult alone = a.settings().apply(m.generate(a.prompt())).result();
                Recorder rec = batched.get(i);
                assertThat(rec.error).as("request %d", i).isNull();
                assertThat(rec.result.newTokens()).as("request %d", i).containsExactly(alone.newTokens());
                assertThat(rec.result.finishReason()).isEqualTo(alone.finishReason());
            }
        }
    }

    @Test
    void textStreamsStopsAndEosBehaveAsAlone() throws Exception {
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"))
                .withTokenizer(Tokenizer.load(Fixtures.tokenizerFolder()))) {
            int[] prompt = m.tokenizer().encode("Once upon a time there was");
            GenerationResult free = m.generate(prompt).maxNewTokens(24).greedy().ignoreEos().result();
            String stop = free.text().substring(free.text().length() / 2, free.text().length() / 2 + 2);
            int eos = free.newTokens()[5];
            List<Function<Generation, Generation>> settings = List.of(
                    g -> g.maxNewTokens(24).greedy().stop(stop),
                    g -> g.maxNewTokens(24).greedy().stopTokens(eos),
                    g -> g.maxNewTokens(24).greedy().ignoreEos());
            List<Arrival> arrivals = settings.stream().map(s -> new Arrival(0, prompt, s)).toList();
            List<Recorder> batched = runBatched(m, arrivals, 3, 1000);
            for (int i = 0; i < settings.size(); i++) {
                GenerationResult alone = settings.get(i).apply(m.generate(prompt)).result();
                Recorder rec = batched.get(i);
                assertThat(rec.result.text()).isEqualTo(alone.text()).isEqualTo(rec.pieces.toString());
                assertThat(rec.result.newTokens()).containsExactly(alone.newTokens());
                assertThat(rec.result.finishReason()).isEqualTo(alone.finishReason());
            }
            assertThat(batched.get(0).result.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(batched.get(0).result.text()).doesNotContain(stop);
            assertThat(batched.get(1).result.newTokens()).hasSize(6).endsWith(eos);
        }
    }

    @Test
    void rowsGrowWhenALongerSequenceJoinsMidway() throws Exception {
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"))) {
            Random r = new Random(1);
            List<Arrival> arrivals = List.of(
                    new Arrival(0, randomPrompt(r, 10), g -> g.maxNewTokens(40).greedy().ignoreEos()),
                    new Arrival(5, randomPrompt(r, 300), g -> g.maxNewTokens(12).greedy().ignoreEos()));
            List<Recorder> batched = runBatched(m, arrivals, 2, 10_000);
            for (int i = 0; i < arrivals.size(); i++) {
                Arrival a = arrivals.get(i);
                int[] alone = a.settings().apply(m.generate(a.prompt())).result().newTokens();
                assertThat(batched.get(i).result.newTokens()).as("request %d", i).containsExactly(alone);
            }
        }
    }

    @Test
    void admissionRespectsRowsAndTheKvTokenCap() throws Exception {
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"));
                ContinuousBatch batch = m.continuousBatch(2, 100)) {
            int[] p = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
            Generation small = m.generate(p).maxNewTokens(30).greedy().ignoreEos();
            assertThat(batch.canAdmit(small)).isTrue();
            batch.admit(small, new Recorder());
            assertThat(batch.reservedTokens()).isEqualTo(40);
            Generation big = m.generate(p).maxNewTokens(60).greedy().ignoreEos();
            assertThat(batch.fits(big)).isTrue();
            assertThat(batch.canAdmit(big)).as("40 + 70 tokens exceed the cap of 100").isFalse();
            assertThatThrownBy(() -> batch.admit(big, new Recorder()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("KV tokens");
            batch.admit(m.generate(p).maxNewTokens(20).greedy().ignoreEos(), new Recorder());
            Generation third = m.generate(p).maxNewTokens(1).greedy();
            assertThat(batch.canAdmit(third)).as("both rows busy").isFalse();
            Generation never = m.generate(p).maxNewTokens(95).greedy();
            assertThat(batch.fits(never)).isFalse();
            assertThatThrownBy(() -> batch.admit(never, new Recorder()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cap (100)");
            assertThatThrownBy(() -> batch.admit(m.generate(List.of(p, p)), new Recorder()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one prompt");
        }
    }

    @Test
    void cancelledSequenceLeavesAndFreesItsRowWhileOthersContinue() throws Exception {
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"));
                ContinuousBatch batch = m.continuousBatch(2, 1000)) {
            int[] p = {5, 6, 7, 8};
            AtomicBoolean cancel = new AtomicBoolean();
            Recorder cancelled = new Recorder();
            Recorder kept = new Recorder();
            batch.admit(m.generate(p).maxNewTokens(50).greedy().ignoreEos().cancelWhen(cancel::get), cancelled);
            batch.admit(m.generate(new int[] {9, 10, 11}).maxNewTokens(20).greedy().ignoreEos(), kept);
            batch.step();
            batch.step();
            cancel.set(true);
            batch.step();
            assertThat(cancelled.error).isInstanceOf(CancellationException.class);
            assertThat(batch.running()).isEqualTo(1);
            assertThat(batch.reservedTokens()).isEqualTo(23);
            while (batch.running() > 0) {
                batch.step();
            }
            int[] alone = m.generate(new int[] {9, 10, 11}).maxNewTokens(20).greedy().ignoreEos().result().newTokens();
            assertThat(kept.result.newTokens()).containsExactly(alone);
        }
    }

    @Test
    void closingTheBatchCancelsWhatIsRunning() throws Exception {
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"))) {
            Recorder rec = new Recorder();
            ContinuousBatch batch = m.continuousBatch(2, 1000);
            batch.admit(m.generate(new int[] {4, 5}).maxNewTokens(10).greedy(), rec);
            batch.close();
            batch.close();
            assertThat(rec.error).isInstanceOf(CancellationException.class);
            assertThat(batch.canAdmit(m.generate(new int[] {4, 5}).maxNewTokens(2))).isFalse();
        }
    }

}
