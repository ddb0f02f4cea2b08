package org.llmkit.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import org.llmkit.api.LanguageModel;

/** The checks {@link FineTuner#train} runs on the memory strategies (devices, ZeRO, offload, checkpointing). */
final class MemoryChecks {
    private MemoryChecks() { }

    static void check(LanguageModel model, TrainingOptions o, Checkpoints.Resumed resumed) {
        if (o.offloadParameters && o.zeroStage != 3) {
            throw new IllegalArgumentException("offloadParameters() streams layer weights from a parameter shard in "
                    + "host memory and needs zeroStage(3), but zeroStage is " + o.zeroStage);
        }
        if (!o.sharded()) {
            return;
        }
        String what = "devices(" + o.rankCount() + "), zeroStage(" + o.zeroStage + ")"
                + (o.offloadOptimizer ? ", offloadOptimizer()" : "") + (o.offloadParameters ? ", offloadParameters()" : "")
                + (o.activationCheckpointing ? ", activationCheckpointing()" : "");
        if (o.loraRequested() || model.adapter().isPresent()) {
            throw new UnsupportedOperationException(what + " with LoRA is not implemented: the memory strategies "
                    + "shard full fine-tuning; drop lora(...) or the memory options");
        }
        if (o.checkpointEvery > 0 || resumed != null) {
            throw new UnsupportedOperationException("checkpoints of a sharded run (" + what + ") are not implemented:"
                    + " the optimizer state is split over ranks; drop checkpointEvery or the memory options");
        }
        int gpus = Engine.getEngine("PyTorch").getGpuCount();
        for (Device d : o.deviceList(model.device())) {
            if (d.isGpu() && d.getDeviceId() >= gpus) {
                throw new IllegalArgumentException("devices names " + d + " but DJL's PyTorch engine sees " + gpus
                        + " GPU(s); use the CUDA build of pytorch-native, or devices(n) for n logical ranks on "
                        + model.device());
            }
        }
        java.util.List<Device> devices = o.deviceList(model.device());
        boolean severalDevices = devices.stream().distinct().count() > 1;
        boolean hostShards = o.offloadParameters && devices.stream().anyMatch(d -> !d.equals(Device.cpu()));
        if ("BF16".equals(o.precision) && (severalDevices || hostShards)) {
            throw new UnsupportedOperationException("bf16() with " + what + " moves bfloat16 arrays between devices,"
                    + " which DJL 0.36 cannot do without aborting the JVM; use fp16(), or bf16 ranks on one device");
        }
        long trainable = model.config().parameterCount();
        if (o.rankCount() > trainable) {
            throw new IllegalArgumentException("devices(" + o.rankCount() + ") is more ranks than the " + trainable
                    + " trainable parameters to shard; use at most " + trainable + " ranks");
        }
    }
}
