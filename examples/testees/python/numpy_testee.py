#!/usr/bin/env python3
"""An example scan-conformance testee in Python with numpy only (protocol version 1, spec/protocol.md).

It computes linear-recurrence, selective-scan (mamba_ssm's selective_scan_ref for real A, every
B/C layout, D, z, deltaBias, deltaSoftplus, h0, seqIdx), ssd (Mamba-2: mamba_ssm's mamba_chunk_scan_combined
with D, z, dtBias, dtSoftplus, dtLimit, initialStates, seqIdx and groups) and mamba3-siso (Mamba-3:
mamba_ssm's mamba3_siso_combined with D, Z, Q/K heads shared by blocks of heads, rotary angles and
its four input states), their one-token steps and their backward passes (vjp), sequentially:

    scan-conformance check --command "python3 examples/testees/python/numpy_testee.py"            # float64
    scan-conformance check --command "python3 examples/testees/python/numpy_testee.py --float32"  # float32

To check YOUR kernel (PyTorch, CUDA, Triton, ...), change only the block marked "CHANGE HERE"
below: point my_selective_scan / my_ssd / my_mamba3_siso / my_linear_recurrence at your kernel and state the precision it
computes in. Everything else (frames, safetensors, the request loop) stays as it is.

Frames: a 4-byte little-endian length, then a safetensors payload whose __metadata__ holds the
message fields as strings. Parsed here with struct and json; no safetensors package needed.
"""
import json
import os
import struct
import sys
import traceback

import numpy as np

PROTOCOL_VERSION = "1"
FLOAT32 = "--float32" in sys.argv[1:]
COMPUTE_DTYPE = np.float32 if FLOAT32 else np.float64


# ============================== CHANGE HERE ==============================
# 1. The name and the arithmetic of your kernel. A float16/bfloat16 kernel that accumulates in
#    float32 also sets ACCUMULATION = "float32".
NAME = "numpy-sequential-f32" if FLOAT32 else "numpy-sequential-f64"
PRECISION = "float32" if FLOAT32 else "float64"
ACCUMULATION = None


# 2. The kernels. Arguments are numpy float32 arrays in mamba_ssm's layout; optional ones are None.
#    Return numpy arrays (float32 or float64); they are sent back as they are.
def my_selective_scan(u, delta, A, B, C, D, z, delta_bias, h0, seq_idx, delta_softplus):
    """u, delta, z: (batch, dim, L); A: (dim, N); B, C: (dim, N), (batch, N, L) or (batch, G, N, L);
    D, delta_bias: (dim,); h0: (batch, dim, N); seq_idx: (batch, L), integers stored in float32,
    the state reset to zero where they change (packed rows). Returns y (batch, dim, L), last_state
    (batch, dim, N).

    With mamba_ssm on a GPU this would be, for example (no h0 and no seq_idx there: declare
    "optionalInputs": ["D", "z", "deltaBias"] in FAMILIES below so the runner declines those cases):

        import torch
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
        t = lambda x: None if x is None else torch.from_numpy(x).cuda()
        y, last = selective_scan_fn(t(u), t(delta), t(A), t(B), t(C), t(D), t(z), t(delta_bias),
                                    delta_softplus=delta_softplus, return_last_state=True)
        return y.float().cpu().numpy(), last.float().cpu().numpy()
    """
    return sequential_selective_scan(u, delta, A, B, C, D, z, delta_bias, h0, seq_idx, delta_softplus)


def my_ssd(x, dt, A, B, C, D, z, dt_bias, dt_limit, initial_states, seq_idx, dt_softplus, chunk_size):
    """x, z: (batch, L, H, P); dt: (batch, L, H); A, dt_bias: (H,); B, C: (batch, L, G, N), head h
    reading group h // (H / G); D: (H,) or (H, P); dt_limit: (2,) = (lo, hi), either may be -inf/inf;
    initial_states: (batch, H, P, N); seq_idx: (batch, L), integers stored in float32, the state
    reset where they change; chunk_size: one of FAMILIES["ssd"]["chunkSizes"], the one the runner asked for or
    DEFAULT_CHUNK_SIZE. Returns y (batch, L, H, P), final_states (batch, H, P, N). A step comes
    here too, as a run of length 1 from its state (step() below).

    With mamba_ssm on a GPU this would be, for example:

        import torch
        from mamba_ssm.ops.triton.ssd_combined import mamba_chunk_scan_combined
        t = lambda a: None if a is None else torch.from_numpy(a).cuda()
        # No dtLimit means no clamp; mamba_ssm's default (0.0, inf) would clamp a negative dt.
        lo, hi = (-float("inf"), float("inf")) if dt_limit is None else (float(dt_limit[0]), float(dt_limit[1]))
        # mamba_ssm wants seq_idx as int32 and takes a row's first sequence to be 0 (the one its
        # initial_states belong to); only changes of seq_idx matter, so start every row at 0.
        idx = None if seq_idx is None else t((seq_idx - seq_idx[:, :1]).astype(np.int32))
        y, final = mamba_chunk_scan_combined(
            t(x), t(dt), t(A), t(B), t(C), chunk_size=chunk_size, D=t(D), z=t(z), dt_bias=t(dt_bias),
            initial_states=t(initial_states), seq_idx=idx, dt_softplus=dt_softplus,
            dt_limit=(lo, hi), return_final_states=True)
        return y.float().cpu().numpy(), final.float().cpu().numpy()
    """
    # One token at a time: the chunk size changes nothing here, which is allowed (the suite checks
    # that no declared size changes the result beyond the tolerance).
    return sequential_ssd(x, dt, A, B, C, D, z, dt_bias, dt_limit, initial_states, seq_idx, dt_softplus)


def my_ssd_varlen(x, dt, A, B, C, D, z, dt_bias, dt_limit, initial_states, cu_seqlens, dt_softplus, chunk_size):
    """ssd's variable-length form: several sequences packed into one row. x, z: (1, T, H, P); dt: (1,
    T, H); B, C: (1, T, G, N); sequence s is the tokens cu_seqlens[s] .. cu_seqlens[s + 1] - 1
    (cu_seqlens: (nseq + 1,), integers stored in float32; empty sequences allowed); initial_states:
    (nseq, H, P, N), one per sequence, or None; the other inputs as in my_ssd. Returns y (1, T, H, P)
    and final_states (nseq, H, P, N), sequence s's state after its last token.

    A native varlen kernel goes here (vLLM's mamba_chunk_scan_combined_varlen, or mamba_ssm's
    mamba_chunk_scan_combined with cu_seqlens and return_varlen_states); this one runs each
    sequence through my_ssd on its own.
    """
    bounds = [int(c) for c in cu_seqlens]
    ys, finals = [], []
    for s in range(len(bounds) - 1):
        cut = lambda a: None if a is None else a[:, bounds[s]:bounds[s + 1]]
        h0 = None if initial_states is None else initial_states[s:s + 1]
        y, final = my_ssd(cut(x), cut(dt), A, cut(B), cut(C), D, cut(z), dt_bias, dt_limit, h0, None, dt_softplus, chunk_size)
        ys.append(y)
        finals.append(final)
    return np.concatenate(ys, axis=1), np.concatenate(finals, axis=0)


def my_mamba3_siso(Q, K, V, ADT, DT, Trap, Q_bias, K_bias, Angles, D, Z,
                   angle_state, ssm_state, k_state, v_state, chunk_size):
    """Q, K: (batch, L, G, N), head h reading Q/K head h // (H / G); V, Z: (batch, L, H, P);
    ADT, DT, Trap: (batch, H, L) (time is axis 2 here); Q_bias, K_bias: (H, N); Angles:
    (batch, L, H, A), A <= N / 2; D: (H,); the input states angle_state (batch, H, A), ssm_state
    (batch, H, P, N), k_state (batch, H, N), v_state (batch, H, P), each None when absent (zero).
    Returns y (batch, L, H, P) and the final angle, SSM, K and V states (the angle state is
    compared as an angle, so reduced mod 2*pi or not, both pass). A step comes here too, as a run
    of length 1 from its four states (step() below).

    With mamba_ssm on a GPU this would be, for example:

        import torch
        from mamba_ssm.ops.triton.mamba3.mamba3_siso_combined import mamba3_siso_combined
        t = lambda a: None if a is None else torch.from_numpy(a).cuda()
        states = (angle_state, ssm_state, k_state, v_state)
        batch, _, heads, headdim = V.shape
        n_state, n_angles = Q.shape[3], Angles.shape[3]
        # mamba_ssm takes the four input states all together or none: an absent one is zero.
        shapes = [(batch, heads, n_angles), (batch, heads, headdim, n_state), (batch, heads, n_state), (batch, heads, headdim)]
        if all(s is None for s in states):
            input_states = None
        else:
            input_states = tuple(t(np.zeros(shape, np.float32) if s is None else s) for s, shape in zip(states, shapes))
        # Its kernels want power-of-two head sizes (TMA); other sizes are declined, not failed.
        if any(n & (n - 1) for n in (n_state, headdim)):
            raise Decline(f"mamba3_siso_combined takes power-of-two headdim_qk and headdim_v, got {n_state}, {headdim}")
        out, angle, ssm, k, v = mamba3_siso_combined(
            t(Q), t(K), t(V), t(ADT), t(DT), t(Trap), t(Q_bias), t(K_bias), t(Angles), D=t(D), Z=t(Z),
            Input_States=input_states, chunk_size=chunk_size, return_final_states=True)
        return tuple(x.float().cpu().numpy() for x in (out, angle, ssm, k, v))

    mamba3_siso_combined casts Q, K, V, Trap, Angles and Z to bfloat16 and accumulates in
    float32: declare PRECISION = "bfloat16" and ACCUMULATION = "float32" for it.
    """
    # One token at a time: the chunk size changes nothing here.
    return sequential_mamba3_siso(Q, K, V, ADT, DT, Trap, Q_bias, K_bias, Angles, D, Z,
                                  angle_state, ssm_state, k_state, v_state)


def my_linear_recurrence(a, b, h0, reverse):
    """a, b: (batch, dim, L); h0: (batch, dim) or None. Returns h (batch, dim, L), last_state (batch, dim)."""
    return sequential_linear_recurrence(a, b, h0, reverse)


def my_selective_scan_vjp(u, delta, A, B, C, D, z, delta_bias, h0, delta_softplus, y_bar, last_state_bar):
    """The backward pass: inputs as for my_selective_scan (no seq_idx: vjp requests with seqIdx are
    declined, see vjp() below), y_bar (batch, dim, L) and last_state_bar (batch, dim, N) the
    cotangents of y and last_state. Returns a dict input name -> gradient, one per input that is
    not None, shaped like it (B, C in their own layout; A, D, delta_bias summed over batch and time).

    With mamba_ssm on a GPU this would be, for example (no h0 there, as for run):

        import torch
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
        t = lambda x: None if x is None else torch.from_numpy(x).cuda().requires_grad_()
        inputs = {"u": t(u), "delta": t(delta), "A": t(A), "B": t(B), "C": t(C), "D": t(D), "z": t(z),
                  "deltaBias": t(delta_bias)}
        y, last = selective_scan_fn(inputs["u"], inputs["delta"], inputs["A"], inputs["B"], inputs["C"],
                                    inputs["D"], inputs["z"], inputs["deltaBias"],
                                    delta_softplus=delta_softplus, return_last_state=True)
        present = {name: x for name, x in inputs.items() if x is not None}
        grads = torch.autograd.grad([y, last], list(present.values()),
                                    grad_outputs=[torch.from_numpy(y_bar).cuda(), torch.from_numpy(last_state_bar).cuda()])
        # Same layouts as the inputs: dB/dC come back (dim, N), (batch, N, L) or (batch, G, N, L).
        return {name: g.double().cpu().numpy() for name, g in zip(present, grads)}

    Beware: SelectiveScanFn.backward ignores the cotangent of last_state (its docstring: "the
    gradient of the last state is not considered in the backward pass"), so with a nonzero
    last_state_bar its gradients are wrong by exactly that term. Declare an expectedFailure for it,
    or take autograd through selective_scan_ref (pure PyTorch, same arguments) instead.
    """
    return sequential_selective_scan_vjp(u, delta, A, B, C, D, z, delta_bias, h0, delta_softplus, y_bar, last_state_bar)


def my_ssd_vjp(x, dt, A, B, C, D, z, dt_bias, dt_limit, initial_states, seq_idx, dt_softplus, y_bar, final_states_bar):
    """The backward pass of my_ssd: inputs as for my_ssd, y_bar (batch, L, H, P) and
    final_states_bar (batch, H, P, N) the cotangents of y and final_states. Returns a dict input
    name -> gradient for every differentiable input that is not None (dt_limit and seq_idx have
    none). With mamba_ssm: torch.autograd.grad([y, final], inputs, grad_outputs=[y_bar, final_states_bar])
    over mamba_chunk_scan_combined(..., return_final_states=True), as for selective_scan_fn above."""
    return sequential_ssd_vjp(x, dt, A, B, C, D, z, dt_bias, dt_limit, initial_states, seq_idx, dt_softplus, y_bar, final_states_bar)


def my_linear_recurrence_vjp(a, b, h0, reverse, h_bar, last_state_bar):
    """h_bar (batch, dim, L), last_state_bar (batch, dim): cotangents of h and last_state. Returns
    a dict input name -> gradient for a, b and h0 (when h0 is not None)."""
    return sequential_linear_recurrence_vjp(a, b, h0, reverse, h_bar, last_state_bar)


def my_mamba3_siso_vjp(Q, K, V, ADT, DT, Trap, Q_bias, K_bias, Angles, D, Z, angle_state, ssm_state, k_state, v_state,
                       y_bar, final_angle_bar, final_ssm_bar, final_k_bar, final_v_bar):
    """The backward pass of my_mamba3_siso: inputs as for it, and the cotangents of y and of the four
    final states. Returns a dict input name -> gradient for every input that is not None (Q and K per
    Q/K head, summed over the heads that share it; Q_bias, K_bias and D summed over batch and time).
    With mamba_ssm: torch.autograd.grad over mamba3_siso_combined's five outputs, as for
    selective_scan_fn above."""
    return sequential_mamba3_siso_vjp(Q, K, V, ADT, DT, Trap, Q_bias, K_bias, Angles, D, Z, angle_state, ssm_state,
                                      k_state, v_state, y_bar, final_angle_bar, final_ssm_bar, final_k_bar, final_v_bar)


# 3. What it supports. Per family: "step" (one-token update), and optionally "options" (supported
#    values, e.g. {"reverse": [False]}), "optionalInputs", "layouts" (selective-scan B/C) and
#    "chunkSizes" (the chunk sizes a run may ask for; the suite runs each, and none may change the
#    result), "vjp" (it answers the backward pass: my_*_vjp above), and for ssd "varlen" (it answers
#    the variable-length form: my_ssd_varlen above). A run request without a chunk size gets
#    DEFAULT_CHUNK_SIZE.
DEFAULT_CHUNK_SIZE = 256  # mamba_chunk_scan_combined's usual chunk_size
MAMBA3_CHUNK_SIZE = 64  # mamba3_siso_combined's default chunk_size
FAMILIES = {
    "linear-recurrence": {"step": True, "vjp": True},
    # seqIdx is accepted by run; a vjp request with seqIdx is declined at run time (vjp() below).
    "selective-scan": {"step": True, "vjp": True, "optionalInputs": ["D", "z", "deltaBias", "h0", "seqIdx"]},
    "ssd": {"step": True, "vjp": True, "varlen": True, "chunkSizes": [64, 256]},
    # No chunkSizes: every run gets MAMBA3_CHUNK_SIZE.
    "mamba3-siso": {"step": True, "vjp": True},
}
# ============================ END OF CHANGES ============================


def sequential_linear_recurrence(a, b, h0, reverse):
    """h_t = a_t * h_{t-1} + b_t (h_t = a_t * h_{t+1} + b_t when reverse), vectorized over channels."""
    batch, dim, length = a.shape
    a = a.astype(COMPUTE_DTYPE)
    b = b.astype(COMPUTE_DTYPE)
    state = np.zeros((batch, dim), COMPUTE_DTYPE) if h0 is None else h0.astype(COMPUTE_DTYPE)
    h = np.empty((batch, dim, length), COMPUTE_DTYPE)
    for t in (range(length - 1, -1, -1) if reverse else range(length)):
        state = a[:, :, t] * state + b[:, :, t]
        h[:, :, t] = state
    return h, state


def sequential_linear_recurrence_vjp(a, b, h0, reverse, h_bar, last_state_bar):
    """The adjoint scan of spec/gradients.md#linear-recurrence: lambda runs against processing
    order, lambda_t = a_{t+1} lambda_{t+1} + h_bar_t, and a_bar_t = lambda_t h_{t-1}, b_bar_t = lambda_t,
    h0_bar = a_0 lambda_0 (the first decay included). `reverse` swaps the time order."""
    length = a.shape[2]
    f = COMPUTE_DTYPE
    a, h_bar = a.astype(f), h_bar.astype(f)
    h, _ = sequential_linear_recurrence(a, b, h0, reverse)
    start = np.zeros(a.shape[:2], f) if h0 is None else h0.astype(f)
    order = list(range(length - 1, -1, -1)) if reverse else list(range(length))
    a_bar = np.empty_like(a)
    b_bar = np.empty_like(a)
    lam = last_state_bar.astype(f)
    for k in range(length - 1, -1, -1):  # processing steps, last first
        t = order[k]
        previous = start if k == 0 else h[:, :, order[k - 1]]
        lam = lam + h_bar[:, :, t]
        a_bar[:, :, t] = lam * previous
        b_bar[:, :, t] = lam
        lam = a[:, :, t] * lam  # after the loop: a_0 lambda_0, the initial state's cotangent
    gradients = {"a": a_bar, "b": b_bar}
    if h0 is not None:
        gradients["h0"] = lam
    return gradients


def softplus(x):
    """PyTorch's softplus, threshold 20: log1p(exp(x)), or x above 20."""
    return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))


def projection_at(P, t, dim):
    """B or C at time t for every (batch, channel): broadcastable to (batch, dim, N)."""
    if P.ndim == 2:  # (dim, N): time-invariant
        return P[None, :, :]
    if P.ndim == 3:  # (batch, N, L): time-varying, shared by every channel
        return P[:, None, :, t]
    groups = P.shape[1]  # (batch, G, N, L): channel d reads group d // (dim / G)
    return np.repeat(P[:, :, :, t], dim // groups, axis=1)


def sequential_selective_scan(u, delta, A, B, C, D, z, delta_bias, h0, seq_idx, delta_softplus):
    """mamba_ssm's selective_scan_ref for real A, one token at a time; the state resets where seq_idx changes."""
    batch, dim, length = u.shape
    n_state = A.shape[1]
    dt = COMPUTE_DTYPE
    u, delta, A, B, C = (x.astype(dt) for x in (u, delta, A, B, C))
    if delta_bias is not None:
        delta = delta + delta_bias.astype(dt)[None, :, None]
    if delta_softplus:
        delta = softplus(delta)
    state = np.zeros((batch, dim, n_state), dt) if h0 is None else h0.astype(dt)
    y = np.empty((batch, dim, length), dt)
    for t in range(length):
        d_t = delta[:, :, t, None]
        decayed = np.exp(d_t * A[None, :, :]) * state
        if seq_idx is not None and t > 0:
            # A new sequence starts from zero whatever came before (an infinite state included).
            new_sequence = seq_idx[:, t] != seq_idx[:, t - 1]
            decayed = np.where(new_sequence[:, None, None], dt(0), decayed)
        state = decayed + d_t * (projection_at(B, t, dim) * u[:, :, t, None])
        y[:, :, t] = np.sum(state * projection_at(C, t, dim), axis=-1)
    if D is not None:
        y = y + D.astype(dt)[None, :, None] * u
    if z is not None:
        y = y * silu(z.astype(dt))
    return y, state


def sum_to_layout(contribution, P, t, out):
    """Adds one time step's (batch, dim, N) contribution to the gradient `out` of B or C, summed as
    autograd sums a shared parameter: over batch for (dim, N), over channels for (batch, N, L),
    over a group's channels for (batch, G, N, L)."""
    if P.ndim == 2:
        out += contribution.sum(axis=0)
    elif P.ndim == 3:
        out[:, :, t] += contribution.sum(axis=1)
    else:
        batch, dim, n_state = contribution.shape
        groups = P.shape[1]
        out[:, :, :, t] += contribution.reshape(batch, groups, dim // groups, n_state).sum(axis=2)


def sequential_selective_scan_vjp(u, delta, A, B, C, D, z, delta_bias, h0, delta_softplus, y_bar, last_state_bar):
    """The adjoint scan of spec/gradients.md#selective-scan, one token at a time backwards: the
    states are recomputed and stored by a forward pass, then lambda (batch, dim, N) runs from the
    last token to the first and every factor's cotangent is summed into its input's layout."""
    batch, dim, length = u.shape
    n_state = A.shape[1]
    f = COMPUTE_DTYPE
    u, delta, A, B, C = (x.astype(f) for x in (u, delta, A, B, C))
    y_bar = y_bar.astype(f)
    raw = delta if delta_bias is None else delta + delta_bias.astype(f)[None, :, None]
    step = softplus(raw) if delta_softplus else raw
    # PyTorch's softplus backward: sigmoid below the threshold 20, 1 above it (spec/gradients.md).
    with np.errstate(over="ignore"):
        step_slope = np.where(raw > 20, f(1), 1 / (1 + np.exp(-raw))) if delta_softplus else np.ones_like(raw)
    start = np.zeros((batch, dim, n_state), f) if h0 is None else h0.astype(f)
    states = np.empty((length, batch, dim, n_state), f)
    ungated = np.empty((batch, dim, length), f)  # y before the gate, for z's gradient
    state = start
    for t in range(length):
        decay = np.exp(step[:, :, t, None] * A[None])
        state = decay * state + step[:, :, t, None] * projection_at(B, t, dim) * u[:, :, t, None]
        states[t] = state
        ungated[:, :, t] = np.sum(state * projection_at(C, t, dim), axis=-1)
    if D is not None:
        ungated = ungated + D.astype(f)[None, :, None] * u
    gradients = {}
    if z is not None:
        z = z.astype(f)
        with np.errstate(over="ignore"):
            sigma = 1 / (1 + np.exp(-z))
        gradients["z"] = y_bar * ungated * sigma * (1 + z * (1 - sigma))
        gated_bar = y_bar * silu(z)
    else:
        gated_bar = y_bar
    u_bar = np.zeros_like(u)
    step_bar = np.zeros_like(step)
    A_bar = np.zeros_like(A)
    B_bar = np.zeros_like(B)
    C_bar = np.zeros_like(C)
    lam = last_state_bar.astype(f)
    for t in range(length - 1, -1, -1):
        g = gated_bar[:, :, t, None]
        B_t, C_t = projection_at(B, t, dim), projection_at(C, t, dim)
        sum_to_layout(np.broadcast_to(g * states[t], (batch, dim, n_state)), C, t, C_bar)
        lam = lam + C_t * g
        previous = start if t == 0 else states[t - 1]
        decay = np.exp(step[:, :, t, None] * A[None])
        decay_bar = lam * previous  # cotangent of a_t; lam itself is that of x_t = step_t B_t u_t
        step_t = step[:, :, t, None]
        step_bar[:, :, t] = np.sum(decay_bar * decay * A[None] + lam * B_t * u[:, :, t, None], axis=-1)
        A_bar += np.sum(decay_bar * decay * step_t, axis=0)
        sum_to_layout(np.broadcast_to(lam * step_t * u[:, :, t, None], (batch, dim, n_state)), B, t, B_bar)
        u_bar[:, :, t] = np.sum(lam * step_t * B_t, axis=-1)
        lam = decay * lam  # after the loop: a_0 lambda_0, the initial state's cotangent
    delta_bar = step_bar * step_slope
    if D is not None:
        u_bar = u_bar + gated_bar * D.astype(f)[None, :, None]
        gradients["D"] = np.sum(gated_bar * u, axis=(0, 2))
    gradients.update({"u": u_bar, "delta": delta_bar, "A": A_bar, "B": B_bar, "C": C_bar})
    if delta_bias is not None:
        gradients["deltaBias"] = np.sum(delta_bar, axis=(0, 2))
    if h0 is not None:
        gradients["h0"] = lam
    return gradients


def silu(z):
    """z * sigmoid(z), the gate of selective-scan and ssd."""
    with np.errstate(over="ignore"):  # exp(-z) overflows to inf for z << 0, and z / inf = -0 is right
        return z / (1 + np.exp(-z))


def sequential_ssd(x, dt, A, B, C, D, z, dt_bias, dt_limit, initial_states, seq_idx, dt_softplus):
    """Mamba-2's SSD (spec/families/ssd/ssd.md) one token at a time, vectorized over (batch, head, p, n)."""
    batch, length, heads, headdim = x.shape
    groups, n_state = B.shape[2], B.shape[3]
    f = COMPUTE_DTYPE
    x, dt, A, B, C = (v.astype(f) for v in (x, dt, A, B, C))
    if dt_bias is not None:
        dt = dt + dt_bias.astype(f)
    if dt_softplus:
        dt = softplus(dt)
    if dt_limit is not None:  # after softplus, as mamba_ssm's _chunk_cumsum_fwd
        lo, hi = dt_limit.astype(f)
        dt = np.minimum(np.maximum(dt, lo), hi)
    group = np.arange(heads) // (heads // groups)  # the group each head reads
    state = np.zeros((batch, heads, headdim, n_state), f) if initial_states is None else initial_states.astype(f)
    y = np.empty((batch, length, heads, headdim), f)
    for t in range(length):
        delta = dt[:, t, :, None, None]  # (batch, H, 1, 1)
        decayed = np.exp(delta * A[None, :, None, None]) * state
        if seq_idx is not None and t > 0:
            # A new sequence starts from zero whatever came before (an infinite state included).
            new_sequence = seq_idx[:, t] != seq_idx[:, t - 1]
            decayed = np.where(new_sequence[:, None, None, None], f(0), decayed)
        state = decayed + delta * (B[:, t, group, None, :] * x[:, t, :, :, None])
        y[:, t] = np.sum(state * C[:, t, group, None, :], axis=-1)
    if D is not None:
        D = D.astype(f)
        y = y + (D[:, None] if D.ndim == 1 else D) * x
    if z is not None:
        y = y * silu(z.astype(f))
    return y, state


def sequential_ssd_vjp(x, dt, A, B, C, D, z, dt_bias, dt_limit, initial_states, seq_idx, dt_softplus, y_bar, final_states_bar):
    """The adjoint scan of spec/gradients.md#ssd: states recomputed forward, then lambda
    (batch, H, P, N) from the last token to the first; a head's decay and step are shared by its
    P x N channels, B and C by the heads of a group; a seqIdx reset makes the decay 0."""
    batch, length, heads, headdim = x.shape
    groups, n_state = B.shape[2], B.shape[3]
    f = COMPUTE_DTYPE
    x, dt, A, B, C = (v.astype(f) for v in (x, dt, A, B, C))
    y_bar = y_bar.astype(f)
    raw = dt if dt_bias is None else dt + dt_bias.astype(f)
    soft = softplus(raw) if dt_softplus else raw
    with np.errstate(over="ignore"):
        slope = np.where(raw > 20, f(1), 1 / (1 + np.exp(-raw))) if dt_softplus else np.ones_like(raw)
    step = soft
    if dt_limit is not None:
        lo, hi = dt_limit.astype(f)
        step = np.minimum(np.maximum(soft, lo), hi)
        slope = slope * ((soft >= lo) & (soft <= hi))  # torch.clamp's backward: the gradient passes at a bound
    group = np.arange(heads) // (heads // groups)
    per_group = heads // groups
    start = np.zeros((batch, heads, headdim, n_state), f) if initial_states is None else initial_states.astype(f)
    decays = np.exp(step * A[None, None, :])  # (batch, L, H)
    if seq_idx is not None and length > 1:
        reset = np.zeros((batch, length), bool)
        reset[:, 1:] = seq_idx[:, 1:] != seq_idx[:, :-1]
        decays = np.where(reset[:, :, None], f(0), decays)
    states = np.empty((length, batch, heads, headdim, n_state), f)
    ungated = np.empty((batch, length, heads, headdim), f)
    state = start
    for t in range(length):
        state = decays[:, t, :, None, None] * state + step[:, t, :, None, None] * (B[:, t, group, None, :] * x[:, t, :, :, None])
        states[t] = state
        ungated[:, t] = np.sum(state * C[:, t, group, None, :], axis=-1)
    gradients = {}
    if D is not None:
        D_full = D.astype(f)[:, None] if D.ndim == 1 else D.astype(f)
        ungated = ungated + D_full * x
    if z is not None:
        z = z.astype(f)
        with np.errstate(over="ignore"):
            sigma = 1 / (1 + np.exp(-z))
        gradients["z"] = y_bar * ungated * sigma * (1 + z * (1 - sigma))
        gated_bar = y_bar * silu(z)
    else:
        gated_bar = y_bar
    by_group = lambda per_head: per_head.reshape(batch, groups, per_group, n_state).sum(axis=2)  # (batch, H, N) -> (batch, G, N)
    x_bar = np.zeros_like(x)
    step_bar = np.zeros_like(step)
    A_bar = np.zeros_like(A)
    B_bar = np.zeros_like(B)
    C_bar = np.zeros_like(C)
    lam = final_states_bar.astype(f)
    for t in range(length - 1, -1, -1):
        g = gated_bar[:, t, :, :, None]  # (batch, H, P, 1)
        C_bar[:, t] = by_group(np.sum(g * states[t], axis=2))
        lam = lam + C[:, t, group, None, :] * g
        previous = start if t == 0 else states[t - 1]
        decay_bar = np.sum(lam * previous, axis=(2, 3))  # (batch, H): the decay is shared by P x N
        B_t = B[:, t, group, None, :]
        step_bar[:, t] = decay_bar * decays[:, t] * A[None] + np.sum(lam * B_t * x[:, t, :, :, None], axis=(2, 3))
        A_bar += np.sum(decay_bar * decays[:, t] * step[:, t], axis=0)
        B_bar[:, t] = by_group(np.sum(lam * step[:, t, :, None, None] * x[:, t, :, :, None], axis=2))
        x_bar[:, t] = np.sum(lam * step[:, t, :, None, None] * B_t, axis=-1)
        lam = decays[:, t, :, None, None] * lam  # after the loop: the initial states' cotangent
    dt_bar = step_bar * slope
    if D is not None:
        x_bar = x_bar + gated_bar * D_full
        gradients["D"] = np.sum(gated_bar * x, axis=(0, 1)) if D.ndim == 2 else np.sum(gated_bar * x, axis=(0, 1, 3))
    gradients.update({"x": x_bar, "dt": dt_bar, "A": A_bar, "B": B_bar, "C": C_bar})
    if dt_bias is not None:
        gradients["dtBias"] = np.sum(dt_bar, axis=(0, 1))
    if initial_states is not None:
        gradients["initialStates"] = lam
    return gradients


def sigmoid(x):
    """1 / (1 + exp(-x)), 0 where exp(-x) overflows."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def rotate_pairs(x, theta):
    """x (..., N) with its interleaved pairs (2j, 2j+1), j < A, turned by theta (..., A); the rest as it is."""
    turned = 2 * theta.shape[-1]
    cos, sin = np.cos(theta), np.sin(theta)
    even, odd = x[..., 0:turned:2], x[..., 1:turned:2]
    out = x.copy()
    out[..., 0:turned:2] = even * cos - odd * sin
    out[..., 1:turned:2] = even * sin + odd * cos
    return out


def sequential_mamba3_siso(Q, K, V, ADT, DT, Trap, Q_bias, K_bias, Angles, D, Z, angle_state, ssm_state, k_state, v_state, trace=None):
    """Mamba-3 SISO (spec/families/mamba3-siso/mamba3-siso.md) one token at a time, vectorized over
    (batch, head): the angle state turns by pi*tanh(Angles)*DT mod 2*pi and rotates q and k; the
    state mixes the previous token's (rotated) key and value with the current one's (trapezoidal).
    trace, a dict, gets what the backward pass needs: per token (a leading time axis) the angles, the
    rotated q and k, the previous k and v, the state before and after, exp(ADT) and sigmoid(Trap);
    and the output before the Z gate."""
    batch, length, groups, n_state = Q.shape
    heads, headdim = V.shape[2], V.shape[3]
    n_angles = Angles.shape[3]
    f = COMPUTE_DTYPE
    two_pi = f(2 * np.pi)
    qk_head = np.arange(heads) // (heads // groups)  # blocks of heads share a Q/K head
    q = Q.astype(f)[:, :, qk_head] + Q_bias.astype(f)  # (batch, L, H, N)
    k = K.astype(f)[:, :, qk_head] + K_bias.astype(f)
    V, ADT, DT, Trap = (x.astype(f) for x in (V, ADT, DT, Trap))
    phi = np.tanh(Angles.astype(f)) * f(np.pi)  # (batch, L, H, A)
    zeros = lambda *shape: np.zeros((batch, heads) + shape, f)
    theta = zeros(n_angles) if angle_state is None else angle_state.astype(f)
    state = zeros(headdim, n_state) if ssm_state is None else ssm_state.astype(f)
    k_prev = zeros(n_state) if k_state is None else k_state.astype(f)
    v_prev = zeros(headdim) if v_state is None else v_state.astype(f)
    y = np.empty((batch, length, heads, headdim), f)
    with np.errstate(over="ignore", invalid="ignore"):  # exp(ADT) may overflow: the reference's value is then infinite too
        for t in range(length):
            delta = DT[:, :, t]  # (batch, H)
            theta = theta + phi[:, t] * delta[:, :, None]
            theta = theta - two_pi * np.floor(theta / two_pi)
            q_rot = rotate_pairs(q[:, t], theta)
            k_rot = rotate_pairs(k[:, t], theta)
            v = V[:, t]  # (batch, H, P)
            alpha = np.exp(ADT[:, :, t])
            beta = sigmoid(-Trap[:, :, t]) * delta * alpha  # (1 - sigmoid(Trap)) without the cancellation
            gamma = sigmoid(Trap[:, :, t]) * delta
            if trace is not None:
                for name, value in (("theta", theta), ("q_rot", q_rot), ("k_rot", k_rot), ("k_prev", k_prev), ("v_prev", v_prev),
                                    ("state_before", state), ("alpha", alpha), ("lam", sigmoid(Trap[:, :, t]))):
                    trace.setdefault(name, []).append(value)
            state = (alpha[:, :, None, None] * state
                     + beta[:, :, None, None] * (v_prev[:, :, :, None] * k_prev[:, :, None, :])
                     + gamma[:, :, None, None] * (v[:, :, :, None] * k_rot[:, :, None, :]))
            if trace is not None:
                trace.setdefault("state", []).append(state)
            y[:, t] = np.sum(state * q_rot[:, :, None, :], axis=-1)
            k_prev, v_prev = k_rot, v
    if D is not None:  # before the gate
        y = y + D.astype(f)[:, None] * V
    if trace is not None:
        trace["ungated"] = y
    if Z is not None:
        y = y * silu(Z.astype(f))
    return y, theta, state, k_prev, v_prev


def unrotate_pairs(bar, theta):
    """The cotangent of x from that of rotate_pairs(x, theta): the pairs turned back by -theta."""
    return rotate_pairs(bar, -theta)


def sequential_mamba3_siso_vjp(Q, K, V, ADT, DT, Trap, Q_bias, K_bias, Angles, D, Z, angle_state, ssm_state, k_state,
                               v_state, y_bar, final_angle_bar, final_ssm_bar, final_k_bar, final_v_bar):
    """The adjoint of spec/gradients.md ("mamba3-siso"): the forward of sequential_mamba3_siso again,
    keeping every token's state, angles and rotated q, k; then from the last token to the first the
    cotangents of the state, the angles and the previous token's k and v, vectorized over (batch, head).
    The angle state's mod 2*pi has derivative 1; a turned pair's cotangent turns back by -theta."""
    batch, length, groups, n_state = Q.shape
    heads, headdim = V.shape[2], V.shape[3]
    n_angles = Angles.shape[3]
    f = COMPUTE_DTYPE
    per_group = heads // groups
    trace = {}
    sequential_mamba3_siso(Q, K, V, ADT, DT, Trap, Q_bias, K_bias, Angles, D, Z, angle_state, ssm_state, k_state, v_state, trace)
    in_time = lambda name, *shape: np.stack(trace[name]) if length > 0 else np.empty((0, batch, heads) + shape, f)
    thetas, q_rots, k_rots = in_time("theta", n_angles), in_time("q_rot", n_state), in_time("k_rot", n_state)
    k_prevs, v_prevs = in_time("k_prev", n_state), in_time("v_prev", headdim)
    befores, afters = in_time("state_before", headdim, n_state), in_time("state", headdim, n_state)
    alphas, lams = in_time("alpha"), in_time("lam")
    ungated = trace["ungated"]
    V, DT = V.astype(f), DT.astype(f)
    tanh = np.tanh(Angles.astype(f))
    phi = tanh * f(np.pi)  # (batch, L, H, A)
    with np.errstate(over="ignore", invalid="ignore"):
        y_bar = y_bar.astype(f)
        gradients = {}
        if Z is not None:
            z = Z.astype(f)
            sigma = sigmoid(z)
            gradients["Z"] = y_bar * ungated * sigma * (1 + z * (1 - sigma))
            o_bar = y_bar * silu(z)
        else:
            o_bar = y_bar
        grads = {name: np.zeros(x.shape, f) for name, x in (("V", V), ("ADT", ADT), ("DT", DT), ("Trap", Trap), ("Angles", Angles))}
        q_bar_rot = np.empty((length, batch, heads, n_state), f)
        k_bar_rot = np.empty((length, batch, heads, n_state), f)
        s_bar = final_ssm_bar.astype(f)
        theta_bar = final_angle_bar.astype(f)
        k_carry, v_carry = final_k_bar.astype(f), final_v_bar.astype(f)
        for t in range(length - 1, -1, -1):
            delta, alpha, lam = DT[:, :, t], alphas[t], lams[t]
            beta, gamma = (1 - lam) * delta * alpha, lam * delta
            o = o_bar[:, t]  # (batch, H, P)
            v, v_p, k_p, k_r, q_r = V[:, t], v_prevs[t], k_prevs[t], k_rots[t], q_rots[t]
            s_bar = s_bar + o[:, :, :, None] * q_r[:, :, None, :]
            q_bar_rot[t] = np.sum(afters[t] * o[:, :, :, None], axis=2)
            alpha_bar = np.sum(s_bar * befores[t], axis=(2, 3))
            beta_bar = np.einsum("bhpn,bhp,bhn->bh", s_bar, v_p, k_p)
            gamma_bar = np.einsum("bhpn,bhp,bhn->bh", s_bar, v, k_r)
            v_bar = v_carry + gamma[:, :, None] * np.einsum("bhpn,bhn->bhp", s_bar, k_r)
            if D is not None:
                v_bar = v_bar + D.astype(f)[:, None] * o
            grads["V"][:, t] = v_bar
            k_bar_rot[t] = k_carry + gamma[:, :, None] * np.einsum("bhpn,bhp->bhn", s_bar, v)
            v_carry = beta[:, :, None] * np.einsum("bhpn,bhn->bhp", s_bar, k_p)
            k_carry = beta[:, :, None] * np.einsum("bhpn,bhp->bhn", s_bar, v_p)
            s_bar = alpha[:, :, None, None] * s_bar
            # d(rotate_pairs(x, theta))/d(theta_j) turns pair j by a quarter: (-r1, r0).
            turned = 2 * n_angles
            for bar, rot in ((q_bar_rot[t], q_r), (k_bar_rot[t], k_r)):
                theta_bar = theta_bar + bar[..., 1:turned:2] * rot[..., 0:turned:2] - bar[..., 0:turned:2] * rot[..., 1:turned:2]
            grads["ADT"][:, :, t] = alpha * (alpha_bar + beta_bar * (1 - lam) * delta)
            grads["Trap"][:, :, t] = lam * (1 - lam) * delta * (gamma_bar - beta_bar * alpha)
            grads["DT"][:, :, t] = beta_bar * (1 - lam) * alpha + gamma_bar * lam + np.sum(theta_bar * phi[:, t], axis=-1)
            grads["Angles"][:, t] = theta_bar * delta[:, :, None] * f(np.pi) * (1 - tanh[:, t] * tanh[:, t])
        # Back through the rotation to the unrotated q, k (batch, L, H, N), then to Q, K per Q/K head and the biases.
        q_bar = unrotate_pairs(q_bar_rot, thetas).transpose(1, 0, 2, 3)
        k_bar = unrotate_pairs(k_bar_rot, thetas).transpose(1, 0, 2, 3)
    by_group = lambda per_head: per_head.reshape(batch, length, groups, per_group, n_state).sum(axis=3)
    gradients.update(grads)
    gradients.update({"Q": by_group(q_bar), "K": by_group(k_bar), "QBias": q_bar.sum(axis=(0, 1)), "KBias": k_bar.sum(axis=(0, 1))})
    if D is not None:
        gradients["D"] = np.sum(o_bar * V, axis=(0, 1, 3))
    for name, value, bar in (("angleState", angle_state, theta_bar), ("ssmState", ssm_state, s_bar), ("kState", k_state, k_carry), ("vState", v_state, v_carry)):
        if value is not None:
            gradients[name] = bar
    return gradients


# ------------------------------------------------------------------ requests

def run(family, options, inputs, settings):
    """Answers a run request: the output tensors by name. settings: the request's settings
    ({"chunkSize": n} when the runner asks for one of the family's declared chunkSizes, else {})."""
    if family == "linear-recurrence":
        h, last = my_linear_recurrence(inputs["a"], inputs["b"], inputs.get("h0"), options["reverse"])
        return {"h": h, "lastState": last}
    if family == "selective-scan":
        y, last = my_selective_scan(
            inputs["u"], inputs["delta"], inputs["A"], inputs["B"], inputs["C"], inputs.get("D"),
            inputs.get("z"), inputs.get("deltaBias"), inputs.get("h0"), inputs.get("seqIdx"), options["deltaSoftplus"])
        return {"y": y, "lastState": last}
    if family == "ssd":
        y, final = my_ssd(
            inputs["x"], inputs["dt"], inputs["A"], inputs["B"], inputs["C"], inputs.get("D"), inputs.get("z"),
            inputs.get("dtBias"), inputs.get("dtLimit"), inputs.get("initialStates"), inputs.get("seqIdx"),
            options["dtSoftplus"], settings.get("chunkSize", DEFAULT_CHUNK_SIZE))
        return {"y": y, "finalStates": final}
    if family == "mamba3-siso":
        y, angle, ssm, k, v = my_mamba3_siso(
            inputs["Q"], inputs["K"], inputs["V"], inputs["ADT"], inputs["DT"], inputs["Trap"], inputs["QBias"],
            inputs["KBias"], inputs["Angles"], inputs.get("D"), inputs.get("Z"), inputs.get("angleState"),
            inputs.get("ssmState"), inputs.get("kState"), inputs.get("vState"), MAMBA3_CHUNK_SIZE)
        return {"y": y, "finalAngleState": angle, "finalSsmState": ssm, "finalKState": k, "finalVState": v}
    raise ValueError(f"family {family} is not implemented by this testee")


def step(family, options, inputs, settings):
    """Answers a step request: one token of the forward recurrence, as a run of length 1."""
    token = lambda name: None if name not in inputs else inputs[name][:, :, None]
    if family == "linear-recurrence":
        h, state = my_linear_recurrence(token("a"), token("b"), inputs["state"], False)
        return {"y": h[:, :, 0], "state": state}
    if family == "selective-scan":
        # A step's B and C already have the run's layouts with L = 1.
        y, state = my_selective_scan(
            token("u"), token("delta"), inputs["A"], inputs["B"], inputs["C"], inputs.get("D"),
            token("z"), inputs.get("deltaBias"), inputs["state"], None, options["deltaSoftplus"])
        return {"y": y[:, :, 0], "state": state}
    if family == "ssd":
        # ssd's time axis is 1: x, z (batch, H, P) -> (batch, 1, H, P); dt, B, C likewise.
        at_time = lambda name: None if name not in inputs else inputs[name][:, None]
        y, state = my_ssd(
            at_time("x"), at_time("dt"), inputs["A"], at_time("B"), at_time("C"), inputs.get("D"), at_time("z"),
            inputs.get("dtBias"), inputs.get("dtLimit"), inputs["state"], None, options["dtSoftplus"],
            DEFAULT_CHUNK_SIZE)
        return {"y": y[:, 0], "state": state}
    if family == "mamba3-siso":
        # Time is axis 1 of Q, K, V, Z, Angles and axis 2 of ADT, DT, Trap; the four states are required.
        at_time = lambda name: None if name not in inputs else inputs[name][:, None]
        per_head = lambda name: inputs[name][:, :, None]
        y, angle, ssm, k, v = my_mamba3_siso(
            at_time("Q"), at_time("K"), at_time("V"), per_head("ADT"), per_head("DT"), per_head("Trap"), inputs["QBias"],
            inputs["KBias"], at_time("Angles"), inputs.get("D"), at_time("Z"), inputs["angleState"], inputs["ssmState"],
            inputs["kState"], inputs["vState"], MAMBA3_CHUNK_SIZE)
        return {"y": y[:, 0], "angleState": angle, "ssmState": ssm, "kState": k, "vState": v}
    raise ValueError(f"family {family} has no step in this testee")


def varlen(family, options, inputs, settings):
    """Answers a varlen request (ssd only): the packed row's inputs with cuSeqlens; y and finalStates."""
    if family != "ssd":
        raise ValueError(f"family {family} has no variable-length form")
    y, final = my_ssd_varlen(
        inputs["x"], inputs["dt"], inputs["A"], inputs["B"], inputs["C"], inputs.get("D"), inputs.get("z"),
        inputs.get("dtBias"), inputs.get("dtLimit"), inputs.get("initialStates"), inputs["cuSeqlens"],
        options["dtSoftplus"], settings.get("chunkSize", DEFAULT_CHUNK_SIZE))
    return {"y": y, "finalStates": final}


class Decline(Exception):
    """This testee does not compute the request's input: answered with kind "decline" and the reason."""


def vjp(family, options, inputs, settings):
    """Answers a vjp request: inputs as for run plus cotangent.<output> tensors; returns
    gradient.<input> for every differentiable input present."""
    cotangent = lambda name: inputs["cotangent." + name]
    if family == "linear-recurrence":
        gradients = my_linear_recurrence_vjp(inputs["a"], inputs["b"], inputs.get("h0"), options["reverse"],
                                             cotangent("h"), cotangent("lastState"))
    elif family == "selective-scan":
        if "seqIdx" in inputs:
            # The handshake's optionalInputs hold for run and vjp alike, so the limit is told here.
            raise Decline("this testee has no backward pass for seqIdx (packed sequences); it computes seqIdx in run only")
        gradients = my_selective_scan_vjp(
            inputs["u"], inputs["delta"], inputs["A"], inputs["B"], inputs["C"], inputs.get("D"), inputs.get("z"),
            inputs.get("deltaBias"), inputs.get("h0"), options["deltaSoftplus"], cotangent("y"), cotangent("lastState"))
    elif family == "ssd":
        gradients = my_ssd_vjp(
            inputs["x"], inputs["dt"], inputs["A"], inputs["B"], inputs["C"], inputs.get("D"), inputs.get("z"),
            inputs.get("dtBias"), inputs.get("dtLimit"), inputs.get("initialStates"), inputs.get("seqIdx"),
            options["dtSoftplus"], cotangent("y"), cotangent("finalStates"))
    elif family == "mamba3-siso":
        gradients = my_mamba3_siso_vjp(
            inputs["Q"], inputs["K"], inputs["V"], inputs["ADT"], inputs["DT"], inputs["Trap"], inputs["QBias"],
            inputs["KBias"], inputs["Angles"], inputs.get("D"), inputs.get("Z"), inputs.get("angleState"),
            inputs.get("ssmState"), inputs.get("kState"), inputs.get("vState"), cotangent("y"),
            cotangent("finalAngleState"), cotangent("finalSsmState"), cotangent("finalKState"), cotangent("finalVState"))
    else:
        raise ValueError(f"family {family} has no vjp in this testee")
    return {"gradient." + name: value for name, value in gradients.items()}


# ------------------------------------------------------------------ frames and safetensors

DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


def decode_safetensors(payload):
    """(metadata, tensors) of a safetensors payload; tensors as numpy arrays."""
    (header_length,) = struct.unpack_from("<Q", payload, 0)
    header = json.loads(payload[8:8 + header_length].decode("utf-8"))
    start = 8 + header_length
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        dtype = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = (end - begin) // dtype.itemsize
        array = np.frombuffer(payload, dtype, count, start + begin) if count > 0 else np.zeros(0, dtype)
        tensors[name] = array.reshape(info["shape"])
    return metadata, tensors


def encode_safetensors(metadata, tensors):
    """A safetensors payload: float32 arrays as F32, everything else as F64."""
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, array in tensors.items():
        array = np.asarray(array)
        dtype_name = "F32" if array.dtype == np.float32 else "F64"
        blob = np.ascontiguousarray(array, DTYPES[dtype_name]).tobytes()
        header[name] = {"dtype": dtype_name, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)  # align the data to 8 bytes, as safetensors does
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def read_exactly(stream, count):
    """count bytes, or None at end of input (the runner is gone)."""
    data = stream.read(count)
    return data if data is not None and len(data) == count else None


def main():
    # Frames own stdout. Move the real stdout aside and point fd 1 (print, C libraries) at stderr,
    # so a stray print from a kernel cannot corrupt the stream.
    frames_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    frames_in = sys.stdin.buffer

    def send(metadata, tensors=None):
        payload = encode_safetensors({"protocol": PROTOCOL_VERSION, **metadata}, tensors or {})
        frames_out.write(struct.pack("<I", len(payload)) + payload)
        frames_out.flush()

    while True:
        prefix = read_exactly(frames_in, 4)
        if prefix is None:
            return
        payload = read_exactly(frames_in, struct.unpack("<I", prefix)[0])
        if payload is None:
            return
        metadata, inputs = decode_safetensors(payload)
        kind, request_id = metadata.get("kind"), metadata.get("id")
        if kind == "shutdown":
            return
        if kind == "handshake":
            answer = {"id": request_id, "kind": "handshake", "name": NAME, "precision": PRECISION,
                      "description": "example testee (examples/testees/python/numpy_testee.py): sequential numpy loops",
                      "families": json.dumps(FAMILIES),
                      "environment": json.dumps({"python": sys.version.split()[0], "numpy": np.__version__})}
            if ACCUMULATION is not None:
                answer["accumulation"] = ACCUMULATION
            send(answer)
            continue
        try:
            options = json.loads(metadata["options"])
            settings = json.loads(metadata.get("settings", "{}"))  # absent unless the runner sets a chunk size
            handler = {"run": run, "step": step, "vjp": vjp, "varlen": varlen}[kind]
            send({"id": request_id, "kind": "result"}, handler(metadata["family"], options, inputs, settings))
        except Decline as decline:
            send({"id": request_id, "kind": "decline", "reason": str(decline)})
        except Exception:  # the runner reports the message; the testee stays up for the next request
            send({"id": request_id, "kind": "error", "message": traceback.format_exc()})


if __name__ == "__main__":
    main()
