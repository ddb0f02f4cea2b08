package org.llmkit.api;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/** Device and dtype choices for the PyTorch engine, with errors that say how to fix them. */
final class Devices {
    private Devices() { }

    static NDManager newManager(Device device) {
        Engine engine = Engine.getEngine("PyTorch");
        if (device.isGpu() && device.getDeviceId() >= engine.getGpuCount()) {
            throw new IllegalArgumentException("device " + device + " requested but DJL's PyTorch engine sees "
                    + engine.getGpuCount() + " GPU(s); on a CUDA machine replace pytorch-native-cpu with the CUDA build"
                    + " of pytorch-native matching libtorch 2.7.1, or use Device.cpu()");
        }
        return engine.newBaseManager(device);
    }
}
