package org.llmkit.train;

import java.util.OptionalInt;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.LoraConfig;
import org.llmkit.api.Precision;
import org.llmkit.data.TokenDataset;

/** The checks {@link FineTuner#train} runs before any work: features, combinations, data. */
final class RunChecks {
    private RunChecks() { }

    static void check(LanguageModel model, TrainingOptions o, TokenDataset train, Checkpoints.Resumed resumed) {
        MemoryChecks.check(model, o, resumed);
        if (o.sharded() && o.documentSeparator != -1) {
            throw new UnsupportedOperationException("documentBoundaries() with the memory strategies (devices, "
                    + "zeroStage, offload, activationCheckpointing) is not implemented: the sharded trainer runs "
                    + "plain causal rows; drop one of them");
        }
        if (o.sharded() && model.precision() != Precision.FP32) {
            throw new UnsupportedOperationException("a model loaded in " + model.precision() + " cannot use the memory"
                    + " strategies yet (they keep FP32 replicas and shards); load it in FP32 and use fp16()/bf16()");
        }
        if (o.loraDropout > 0 && !o.loraRequested() && model.adapter().isEmpty()) {
            throw new IllegalArgumentException("loraDropout(" + o.loraDropout + ") applies to LoRA branches, but "
                    + "this run trains all weights; add lora(rank, alpha, targets...) or drop loraDropout");
        }
        if (model.precision() != Precision.FP32 && !model.precision().name().equals(o.precision)) {
            String setter = model.precision() == Precision.FP16 ? "fp16()" : "bf16()";
            throw new IllegalArgumentException("the model was loaded in " + model.precision() + " and this run asks for "
                    + o.precision + " training; a " + model.precision() + " model trains with " + setter
                    + " (FP32 master weights and optimizer state are kept by the trainer), or load the model with "
                    + "precision(Precision.FP32) for " + (o.precision.equals("FP32") ? "FP32" : o.precision.toLowerCase()
                    + "()") + " training");
        }
        if (o.loraRequested() && model.adapter().isPresent() && resumed == null) {
            LoraConfig a = model.adapter().get();
            if (a.rank() != o.loraRank || a.alpha() != o.loraAlpha
                    || !new java.util.HashSet<>(a.targetModules()).equals(new java.util.HashSet<>(o.loraTargets))) {
                throw new IllegalArgumentException("lora(" + o.loraRank + ", " + o.loraAlpha + ", " + o.loraTargets
                        + ") does not match the model's adapter (r=" + a.rank() + ", alpha=" + a.alpha() + ", targets "
                        + a.targetModules() + "); omit lora(...) to train the loaded adapter");
            }
        }
        boolean lora = o.loraRequested() || model.adapter().isPresent();
        if (o.checkpointEvery > 0 && lora && model.source() == null) {
            throw new IllegalArgumentException("checkpointEvery with LoRA needs a base model loaded from a folder "
                    + "(checkpoints hold the adapter and name the base folder); save the base model and load it first");
        }
        int separator = o.resolvedDocumentSeparator(train, model);
        if (separator >= model.config().vocabSize()) {
            throw new IllegalArgumentException("documentBoundaries separator " + separator
                    + " is outside the model's vocabulary [0, " + model.config().vocabSize() + ")");
        }
        checkData("training data", train, model);
        if (o.validation != null) {
            checkData("evaluateEvery validation data", o.validation, model);
        }
        if (resumed != null && resumed.trainSize() != train.size()) {
            throw new IllegalArgumentException("the checkpoint was trained on " + resumed.trainSize()
                    + " sequences but this training data has " + train.size() + "; resume with the same data");
        }
    }

    static void checkData(String what, TokenDataset data, LanguageModel model) {
        if (data == null || data.size() == 0) {
            throw new IllegalArgumentException(what + " is empty; at least one sequence of 2 or more tokens is needed");
        }
        int vocab = model.config().vocabSize();
        int context = model.config().maxPositionEmbeddings();
        if (data.vocabSize() > vocab) {
            throw new IllegalArgumentException(what + " has token ids up to " + (data.vocabSize() - 1)
                    + " but the model's vocabulary is [0, " + vocab + ") (vocab_size)");
        }
        OptionalInt fixed = data.sequenceLength();
        if (fixed.isPresent()) {
            checkLength(what, 0, fixed.getAsInt(), context);
            return;
        }
        for (long i = 0; i < data.size(); i++) {
            checkLength(what, i, data.get(i).length, context);
        }
    }

    private static void checkLength(String what, long index, int length, int context) {
        if (length < 2) {
            throw new IllegalArgumentException(what + ": sequence " + index + " has " + length
                    + " token(s); the loss needs at least 2");
        }
        if (length > context) {
            throw new IllegalArgumentException(what + ": sequence " + index + " has " + length
                    + " tokens, more than the model's max_position_embeddings (" + context
                    + "); pack or cut sequences to at most " + context + " tokens");
        }
    }
}
