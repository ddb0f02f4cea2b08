package org.llmkit.serve;

/**
 * A request the server refuses, carried up to the endpoint wrapper and written in OpenAI's error shape:
 * {@code {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}}.
 */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** OpenAI's error type for caller mistakes. */
    static final String INVALID_REQUEST = "invalid_request_error";

    private final int status;
    private final String type;
    private final String param;
    private final String code;

    ApiException(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400 for a bad value of {@code param}. */
    static ApiException badRequest(String param, String message) {
        return new ApiException(400, INVALID_REQUEST, param, null, message);
    }

    int status() {
        return status;
    }

    String type() {
        return type;
    }

    String param() {
        return param;
    }

    String code() {
        return code;
    }
}
