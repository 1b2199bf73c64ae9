/**
 * Every error a user can cause is a FlavumError: its message says what was wrong and what was
 * expected, and tasks turn it into a one-line message and a non-zero exit instead of a stack trace.
 */
export class FlavumError extends Error {
  constructor(message: string, readonly code: string = "FLAVUM") {
    super(message);
    this.name = new.target.name;
  }
}

/** The ONNX model uses an op Flavum cannot prove. */
export class UnsupportedOpError extends FlavumError {
  constructor(readonly opType: string, readonly nodeName: string, detail: string, supported: readonly string[]) {
    super(
      `unsupported ONNX op ${opType} (node "${nodeName}")${detail ? `: ${detail}` : ""}. ` +
        `Supported ops: ${supported.join(", ")}`,
      "UNSUPPORTED_OP",
    );
  }
}

/** A user-supplied input has the wrong shape or a value that cannot be represented. */
export class InputError extends FlavumError {
  constructor(message: string) {
    super(message, "BAD_INPUT");
  }
}

/** A value left the range the circuit was calibrated for, so no witness exists for it. */
export class RangeOverflowError extends FlavumError {
  constructor(message: string) {
    super(message, "RANGE_OVERFLOW");
  }
}
