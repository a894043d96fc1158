//! The compiler: lowered expressions to bytecode, and the compile session.
//!
//! Code generation is one walk over the [`Expr`] tree. Each expression
//! leaves one value on the stack; expressions whose value is thrown away
//! (all but the last of a body) are compiled as *effects*, which lets
//! `set!`, `define`, `while` and `if` skip pushing a `nil` only to pop it.
//!
//! Calls in tail position — the last expression of a function body, through
//! `if`, `cond`, `begin`, `let` and `when` — compile to `TailCall`, so a
//! loop written as recursion runs in constant stack. A named `let` that
//! lowering made a loop compiles to a jump back instead: its calls back
//! store the new values and jump to the top of its body.
//!
//! A [`Session`] owns the symbol table and the prelude (the collection
//! functions written in the language itself) and numbers every prototype
//! it compiles; the REPL keeps one session across inputs.

use std::collections::HashMap;
use std::sync::Arc;

use crate::bytecode::{Binary, Capture, CaptureFrom, Constant, Op, Proto, SymbolTable};
use crate::constants;
use crate::error::{Diagnostic, Source, Span};
use crate::parser::parse;
use crate::syntax::{lower_program, Expr, Function, Var};

/// Functions written in the language, defined in every main interpreter
/// before the program runs (spawned interpreters receive copies).
///
/// `sort` with a comparator is here because a builtin cannot call a
/// language function: the prelude's `sort` keeps the builtin (which orders
/// numbers and strings) for one argument, and merge-sorts (stably) with the
/// comparator given as a second. It is frozen, so that spawned
/// interpreters share it with the builtin it captured.
const PRELUDE: &str = r#"
(define (map f xs)
  (cond
   ((pair? xs) (cons (f (car xs)) (map f (cdr xs))))
   ((eq? xs nil) nil)
   (else
    (let ((out (list)))
      (for (i 0 (length xs)) (push! out (f (nth xs i))))
      out))))
(define (filter keep? xs)
  (if (pair? xs)
      (vector->list (filter keep? (list->vector xs)))
      (let ((out (list)))
        (for (i 0 (length xs))
          (let ((x (nth xs i)))
            (when (keep? x) (push! out x))))
        out)))
(define (for-each f xs)
  (let ((xs (if (pair? xs) (list->vector xs) xs)))
    (for (i 0 (length xs)) (f (nth xs i)))))
(define (reduce f acc xs)
  (let ((xs (if (pair? xs) (list->vector xs) xs)))
    (for (i 0 (length xs)) (set! acc (f acc (nth xs i)))))
  acc)
(define sort
  (freeze
   (let ((by-order sort))
     (define (sort xs . by)
       (cond
        ((empty? by) (by-order xs))
        ((> (length by) 1)
         (error "sort: expects a list and at most one comparator, got"
                (+ 1 (length by)) "arguments"))
        (else
         (let* ((less? (first by))
                (src (list-copy xs))
                (n (length src))
                (dst (make-list n nil))
                (width 1))
           (while (< width n)
             (let ((lo 0))
               (while (< lo n)
                 (let* ((mid (min (+ lo width) n))
                        (hi (min (+ mid width) n))
                        (i lo)
                        (j mid))
                   (for (k lo hi)
                     (if (and (< i mid)
                              (or (>= j hi) (not (less? (nth src j) (nth src i)))))
                         (begin (set-nth! dst k (nth src i)) (set! i (+ i 1)))
                         (begin (set-nth! dst k (nth src j)) (set! j (+ j 1))))))
                 (set! lo (+ lo width width))))
             (let ((swap src))
               (set! src dst)
               (set! dst swap))
             (set! width (* width 2)))
           src))))
     sort)))
"#;

/// A compile session: global names, prototype numbering, the prelude.
pub struct Session {
    symbols: Arc<SymbolTable>,
    next_proto_id: u32,
    prelude: Arc<Proto>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session whose first symbols are the builtins, in table order.
    pub fn new() -> Self {
        let symbols = Arc::new(SymbolTable::default());
        for name in crate::builtins::names() {
            symbols.intern(name);
        }
        let mut session = Session {
            symbols,
            next_proto_id: 0,
            prelude: Arc::new(Proto {
                id: 0,
                name: "<prelude>".into(),
                arity: 0,
                rest: false,
                frame_size: 0,
                code: Vec::new(),
                spans: Vec::new(),
                constants: Vec::new(),
                children: Vec::new(),
                captures: Vec::new(),
                source: Source::new("<prelude>", ""),
                span: Span::default(),
            }),
        };
        session.prelude = session
            .compile(&Source::new("<prelude>", PRELUDE))
            .expect("the prelude compiles");
        session
    }

    /// The symbol table VMs of this session share.
    pub fn symbols(&self) -> &Arc<SymbolTable> {
        &self.symbols
    }

    /// The prelude's top-level function.
    pub fn prelude(&self) -> &Arc<Proto> {
        &self.prelude
    }

    /// Parses and compiles a whole source into its top-level function.
    pub fn compile(&mut self, source: &Arc<Source>) -> Result<Arc<Proto>, Diagnostic> {
        let forms = parse(source)?;
        let function = lower_program(source, &self.symbols, &forms)?;
        Ok(self.function(source, &function, Vec::new()))
    }

    /// Compiles `function`, whose captures are values, not cells, where
    /// `captured_values` says so (one flag per capture).
    fn function(
        &mut self,
        source: &Arc<Source>,
        function: &Function,
        captured_values: Vec<bool>,
    ) -> Arc<Proto> {
        let id = self.next_proto_id;
        self.next_proto_id += 1;
        let mut emitter = Emitter {
            session: self,
            source,
            function,
            code: Vec::new(),
            spans: Vec::new(),
            constants: Vec::new(),
            constant_index: HashMap::new(),
            children: Vec::new(),
            captured_values,
            loops: Vec::new(),
        };
        // Parameters that live in cells move into them on entry.
        for slot in 0..function.arity + u32::from(function.rest) {
            if emitter.is_cell(slot) {
                emitter.emit(Op::LoadLocal(slot), function.span);
                emitter.emit(Op::DeclareCell(slot), function.span);
            }
        }
        emitter.expr(&function.body, function.is_call_body);
        emitter.emit(Op::Return, function.span);
        let Emitter {
            code,
            spans,
            constants,
            children,
            captured_values,
            ..
        } = emitter;
        Arc::new(Proto {
            id,
            name: Arc::clone(&function.name),
            arity: function.arity,
            rest: function.rest,
            frame_size: function.locals.len() as u32,
            code,
            spans,
            constants,
            children,
            captures: function
                .captures
                .iter()
                .zip(captured_values)
                .map(|((name, from), is_value)| Capture {
                    name: Arc::clone(name),
                    from: *from,
                    is_value,
                })
                .collect(),
            source: Arc::clone(source),
            span: function.span,
        })
    }
}

/// Emits one function's code.
struct Emitter<'a> {
    session: &'a mut Session,
    source: &'a Arc<Source>,
    function: &'a Function,
    code: Vec<Op>,
    spans: Vec<Span>,
    constants: Vec<Constant>,
    /// Each constant's index in `constants`.
    constant_index: HashMap<constants::Key, u32>,
    children: Vec<Arc<Proto>>,
    /// For each capture of the function, whether it is a value rather
    /// than a cell.
    captured_values: Vec<bool>,
    /// The loops being compiled, innermost last: each one's label and the
    /// address of its body.
    loops: Vec<(u32, u32)>,
}

impl Emitter<'_> {
    fn emit(&mut self, op: Op, span: Span) -> usize {
        self.code.push(op);
        self.spans.push(span);
        self.code.len() - 1
    }

    fn here(&self) -> u32 {
        self.code.len() as u32
    }

    /// Points the jump at `at` to the next instruction.
    fn patch(&mut self, at: usize) {
        let target = self.here();
        self.code[at] = match self.code[at] {
            Op::Jump(_) => Op::Jump(target),
            Op::JumpIfFalse(_) => Op::JumpIfFalse(target),
            Op::JumpIfFalseOrPop(_) => Op::JumpIfFalseOrPop(target),
            Op::JumpIfTrueOrPop(_) => Op::JumpIfTrueOrPop(target),
            other => other,
        };
    }

    /// The index of `constant` in this function's pool, added if new.
    fn constant(&mut self, constant: &Constant) -> u32 {
        let next = self.constants.len() as u32;
        let index = *self.constant_index.entry(constant.into()).or_insert(next);
        if index == next {
            self.constants.push(constant.clone());
        }
        index
    }

    fn is_cell(&self, slot: u32) -> bool {
        self.function.locals[slot as usize].is_cell()
    }

    /// Whether capture `i` of the function is a value rather than a cell.
    fn captures_value(&self, i: u32) -> bool {
        self.captured_values[i as usize]
    }

    fn load(&mut self, var: Var, span: Span) {
        let op = match var {
            Var::Local(slot) if self.is_cell(slot) => Op::LoadCell(slot),
            Var::Local(slot) => Op::LoadLocal(slot),
            Var::Captured(i) if self.captures_value(i) => Op::LoadCapturedValue(i),
            Var::Captured(i) => Op::LoadCaptured(i),
            Var::Global(symbol) => Op::LoadGlobal(symbol),
            Var::Own => Op::LoadOwn,
        };
        self.emit(op, span);
    }

    fn store(&mut self, var: Var, span: Span) {
        let op = match var {
            Var::Local(slot) if self.is_cell(slot) => Op::StoreCell(slot),
            Var::Local(slot) => Op::StoreLocal(slot),
            Var::Captured(i) => Op::StoreCaptured(i),
            Var::Global(symbol) => Op::StoreGlobal(symbol),
            // Lowering refuses a `set!` of a function's own name, which is
            // read as `Own` only where nothing rebinds it.
            Var::Own => {
                debug_assert!(false, "a store to a function's own name");
                Op::Pop
            }
        };
        self.emit(op, span);
    }

    /// The slot of `expr` if it reads a local that is not a cell: a value
    /// a binary operation can read in place.
    fn plain_local(&self, expr: &Expr) -> Option<u32> {
        match *expr {
            Expr::Get(Var::Local(slot), _) if !self.is_cell(slot) => Some(slot),
            _ => None,
        }
    }

    /// Compiles `left op right`, reading a local operand in place where
    /// the value read is the one a push would have taken: the right
    /// operand always (nothing runs between its push and `op`); the left
    /// one when evaluating the right cannot write that local.
    fn binary(&mut self, binary: Binary, left: &Expr, right: &Expr, span: Span) {
        let left_slot = self.plain_local(left);
        let right_slot = self.plain_local(right);
        let narrow = |slot: Option<u32>| slot.and_then(|s| u16::try_from(s).ok());
        if let (Some(l), Some(r)) = (narrow(left_slot), narrow(right_slot)) {
            self.emit(Op::BinaryLocals(binary, l, r), span);
        } else if let Some(r) = right_slot {
            self.expr(left, false);
            self.emit(Op::BinaryLocalRight(binary, r), span);
        } else if let Some(l) = left_slot.filter(|&l| !right.may_write_local(l)) {
            self.expr(right, false);
            self.emit(Op::BinaryLocalLeft(binary, l), span);
        } else {
            self.expr(left, false);
            self.expr(right, false);
            self.emit(Op::Binary(binary), span);
        }
    }

    /// Pushes every operand, in order, then emits `op`.
    fn operands_then(&mut self, op: Op, operands: &[Expr], span: Span) {
        for operand in operands {
            self.expr(operand, false);
        }
        self.emit(op, span);
    }

    /// Compiles `expr` for its value; `tail` if that value is returned.
    fn expr(&mut self, expr: &Expr, tail: bool) {
        match expr {
            Expr::Nil(span) => {
                self.emit(Op::Nil, *span);
            }
            Expr::Bool(b, span) => {
                self.emit(if *b { Op::True } else { Op::False }, *span);
            }
            Expr::Const(constant, span) => {
                let k = self.constant(constant);
                self.emit(Op::Const(k), *span);
            }
            // The frame ends once a value in tail position is computed, so
            // a plain local read there is its last use: moved out, not
            // counted twice (a clone now, a drop when the frame goes).
            Expr::Get(Var::Local(slot), span) if tail && !self.is_cell(*slot) => {
                self.emit(Op::TakeLocal(*slot), *span);
            }
            Expr::Get(var, span) => self.load(*var, *span),
            Expr::Take(var, span) => {
                let op = match *var {
                    Var::Local(slot) if self.is_cell(slot) => Op::TakeCell(slot),
                    Var::Local(slot) => Op::TakeLocal(slot),
                    Var::Captured(i) => Op::TakeCaptured(i),
                    Var::Global(symbol) => Op::TakeGlobal(symbol),
                    // Not produced: a name that is moved out of is not
                    // read as `Own` (see `syntax::rebound_names`).
                    Var::Own => Op::LoadOwn,
                };
                self.emit(op, *span);
            }
            Expr::Set(..)
            | Expr::DefineGlobal(..)
            | Expr::Declare(..)
            | Expr::Predeclare(..)
            | Expr::While(..) => {
                self.effect(expr);
                self.emit(Op::Nil, expr.span());
            }
            Expr::If(test, yes, no, span) => {
                self.expr(test, false);
                let to_else = self.emit(Op::JumpIfFalse(0), *span);
                self.expr(yes, tail);
                let to_end = self.emit(Op::Jump(0), *span);
                self.patch(to_else);
                self.expr(no, tail);
                self.patch(to_end);
            }
            Expr::And(items, span) | Expr::Or(items, span) => {
                let Some((last, rest)) = items.split_last() else {
                    let empty = if matches!(expr, Expr::And(..)) {
                        Op::True
                    } else {
                        Op::False
                    };
                    self.emit(empty, *span);
                    return;
                };
                let mut exits = Vec::with_capacity(rest.len());
                for item in rest {
                    self.expr(item, false);
                    let jump = if matches!(expr, Expr::And(..)) {
                        Op::JumpIfFalseOrPop(0)
                    } else {
                        Op::JumpIfTrueOrPop(0)
                    };
                    exits.push(self.emit(jump, item.span()));
                }
                self.expr(last, tail);
                for exit in exits {
                    self.patch(exit);
                }
            }
            Expr::Begin(items, span) => self.sequence(items, tail, *span),
            Expr::Scope(items, slots, span) => {
                self.sequence(items, tail, *span);
                if !tail {
                    self.clear(slots, *span);
                }
            }
            Expr::Lambda(function) => {
                let values = function
                    .captures
                    .iter()
                    .map(|(_, from)| match *from {
                        CaptureFrom::Local(slot) => !self.is_cell(slot),
                        CaptureFrom::Captured(i) => self.captures_value(i),
                        CaptureFrom::Own => true,
                    })
                    .collect();
                let proto = self.session.function(self.source, function, values);
                self.children.push(proto);
                let index = self.children.len() as u32 - 1;
                self.emit(Op::MakeClosure(index), function.span);
            }
            Expr::Call(callee, args, span) => {
                self.expr(callee, false);
                for (i, arg) in args.iter().enumerate() {
                    match arg {
                        // A tail call's argument that reads a local no later
                        // argument reads is that local's last use in this
                        // frame: moved into the callee's.
                        Expr::Get(Var::Local(slot), span)
                            if tail
                                && !self.is_cell(*slot)
                                && !args[i + 1..]
                                    .iter()
                                    .any(|later| later.may_read_local(*slot)) =>
                        {
                            self.emit(Op::TakeLocal(*slot), *span);
                        }
                        _ => self.expr(arg, false),
                    }
                }
                let argc = args.len() as u32;
                self.emit(
                    if tail {
                        Op::TailCall(argc)
                    } else {
                        Op::Call(argc)
                    },
                    *span,
                );
            }
            Expr::Apply(callee, args, span) => {
                self.expr(callee, false);
                for arg in args {
                    self.expr(arg, false);
                }
                let fixed = args.len() as u32 - 1;
                self.emit(
                    if tail {
                        Op::TailApply(fixed)
                    } else {
                        Op::Apply(fixed)
                    },
                    *span,
                );
            }
            // Never a tail call: `EndEscape` must run when `f` returns.
            Expr::CallEscape(function, span) => {
                self.expr(function, false);
                self.emit(Op::CallEscape, *span);
                self.emit(Op::EndEscape, *span);
            }
            Expr::Prim(op, operands, span) => match (*op, &operands[..]) {
                // a b op c op d op …, without nesting; a local operand
                // after the first is read in place.
                (
                    Op::Binary(binary @ (Binary::Add | Binary::Sub | Binary::Mul)),
                    [first, rest @ ..],
                ) if rest.len() > 1 => {
                    self.expr(first, false);
                    for operand in rest {
                        if let Some(slot) = self.plain_local(operand) {
                            self.emit(Op::BinaryLocalRight(binary, slot), *span);
                        } else {
                            self.expr(operand, false);
                            self.emit(*op, *span);
                        }
                    }
                }
                (Op::Binary(binary), [left, right]) => self.binary(binary, left, right, *span),
                (Op::Unary(unary), [operand]) => match self.plain_local(operand) {
                    Some(slot) => {
                        self.emit(Op::UnaryLocal(unary, slot), *span);
                    }
                    None => self.operands_then(*op, operands, *span),
                },
                // The list read in place, as a binary operation's left
                // operand, when the index and the value cannot write it.
                (Op::StoreIndex(store), [seq, index, value]) => match self
                    .plain_local(seq)
                    .filter(|&slot| !index.may_write_local(slot) && !value.may_write_local(slot))
                {
                    Some(slot) => {
                        self.expr(index, false);
                        self.expr(value, false);
                        self.emit(Op::StoreIndexLocal(store, slot), *span);
                    }
                    None => self.operands_then(*op, operands, *span),
                },
                _ => self.operands_then(*op, operands, *span),
            },
            Expr::Cond(clauses, otherwise, span) => {
                let mut exits = Vec::with_capacity(clauses.len());
                for (test, body) in clauses {
                    self.expr(test, false);
                    match body {
                        None => exits.push(self.emit(Op::JumpIfTrueOrPop(0), test.span())),
                        Some(body) => {
                            let next = self.emit(Op::JumpIfFalse(0), test.span());
                            self.expr(body, tail);
                            exits.push(self.emit(Op::Jump(0), *span));
                            self.patch(next);
                        }
                    }
                }
                self.expr(otherwise, tail);
                for exit in exits {
                    self.patch(exit);
                }
            }
            Expr::Chain(items, span) => {
                for item in items {
                    self.expr(item, false);
                }
                self.emit(Op::BuildChain(items.len() as u32), *span);
            }
            // The body's value positions are the loop's; `Again` in them
            // jumps back with the stack as the loop found it, since in
            // tail position nothing of the body's is left pushed.
            Expr::Loop(label, body, _) => {
                self.loops.push((*label, self.here()));
                self.expr(body, tail);
                self.loops.pop();
            }
            Expr::Again(label, values, span) => {
                let start = self
                    .loops
                    .iter()
                    .rev()
                    .find_map(|&(l, start)| (l == *label).then_some(start))
                    .expect("lowering puts Again only inside its loop");
                // Every value first, then every binding: the variables
                // change at once. A variable passed back unchanged stays
                // as it is, unless it is a cell, which each pass gets anew.
                let mut bound = Vec::with_capacity(values.len());
                for (slot, value) in values {
                    let unchanged = matches!(value, Expr::Get(Var::Local(s), _) if s == slot);
                    if !unchanged || self.is_cell(*slot) {
                        self.expr(value, false);
                        bound.push(*slot);
                    }
                }
                for &slot in bound.iter().rev() {
                    let op = if self.is_cell(slot) {
                        Op::DeclareCell(slot)
                    } else {
                        Op::StoreLocal(slot)
                    };
                    self.emit(op, *span);
                }
                self.emit(Op::Loop(start), *span);
            }
        }
    }

    /// Puts `nil` in the slots of a scope that ended, so a finished `let`
    /// keeps nothing alive (and a value it held can be moved).
    fn clear(&mut self, slots: &[u32], span: Span) {
        for &slot in slots {
            self.emit(Op::ClearLocal(slot), span);
        }
    }

    fn sequence(&mut self, items: &[Expr], tail: bool, span: Span) {
        let Some((last, rest)) = items.split_last() else {
            self.emit(Op::Nil, span);
            return;
        };
        for item in rest {
            self.effect(item);
        }
        self.expr(last, tail);
    }

    /// Compiles `expr` for its side effects only: nothing is left pushed.
    fn effect(&mut self, expr: &Expr) {
        match expr {
            Expr::Set(var, value, span) => {
                self.expr(value, false);
                self.store(*var, *span);
            }
            Expr::DefineGlobal(symbol, value, span) => {
                self.expr(value, false);
                self.emit(Op::DefineGlobal(*symbol), *span);
            }
            Expr::Declare(slot, value, span) => {
                self.expr(value, false);
                let op = if self.is_cell(*slot) {
                    Op::DeclareCell(*slot)
                } else {
                    Op::StoreLocal(*slot)
                };
                self.emit(op, *span);
            }
            Expr::Predeclare(slots, span) => {
                for &slot in slots {
                    if self.is_cell(slot) {
                        self.emit(Op::Nil, *span);
                        self.emit(Op::DeclareCell(slot), *span);
                    }
                }
            }
            Expr::While(test, body, span) => {
                let start = self.here();
                self.expr(test, false);
                let exit = self.emit(Op::JumpIfFalse(0), *span);
                for item in body {
                    self.effect(item);
                }
                self.emit(Op::Loop(start), *span);
                self.patch(exit);
            }
            Expr::If(test, yes, no, span) => {
                self.expr(test, false);
                let to_else = self.emit(Op::JumpIfFalse(0), *span);
                self.effect(yes);
                let to_end = self.emit(Op::Jump(0), *span);
                self.patch(to_else);
                self.effect(no);
                self.patch(to_end);
            }
            Expr::Begin(items, _) => {
                for item in items {
                    self.effect(item);
                }
            }
            Expr::Scope(items, slots, span) => {
                for item in items {
                    self.effect(item);
                }
                self.clear(slots, *span);
            }
            Expr::Nil(_) | Expr::Bool(..) | Expr::Const(..) => {}
            _ => {
                self.expr(expr, false);
                self.emit(Op::Pop, expr.span());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytecode::{Store, Unary};

    fn compile(text: &str) -> Result<Arc<Proto>, Diagnostic> {
        Session::new().compile(&Source::new("t", text))
    }

    #[test]
    fn a_tail_call_compiles_to_tail_call() {
        let main = compile("(define (loop n) (if (= n 0) 0 (loop (- n 1))))").unwrap();
        let function = &main.children[0];
        assert!(function.code.contains(&Op::TailCall(1)));
        assert!(!function.code.contains(&Op::Call(1)));
    }

    #[test]
    fn captured_locals_live_in_cells() {
        let main =
            compile("(define (counter) (let ((n 0)) (lambda () (set! n (+ n 1)) n)))").unwrap();
        let counter = &main.children[0];
        assert!(counter
            .code
            .iter()
            .any(|op| matches!(op, Op::DeclareCell(_))));
        let inner = &counter.children[0];
        assert!(inner.code.contains(&Op::StoreCaptured(0)));
        assert_eq!(&*inner.captures[0].name, "n");
    }

    #[test]
    fn never_assigned_captures_are_values_and_own_names_read_the_frame() {
        let main = compile(
            "(define (adder n) (lambda (x) (+ x n)))
             (define (count n) (let loop ((i 0)) (if (< i n) (+ 1 (loop (+ i 1))) 0)))",
        )
        .unwrap();
        let adder = &main.children[0];
        assert!(!adder.code.iter().any(|op| matches!(op, Op::DeclareCell(_))));
        let inner = &adder.children[0];
        assert!(inner.captures[0].is_value);
        assert!(inner.code.contains(&Op::LoadCapturedValue(0)));
        let count = &main.children[1];
        assert!(!count.code.iter().any(|op| matches!(op, Op::DeclareCell(_))));
        let lp = &count.children[0];
        assert!(lp.code.contains(&Op::LoadOwn));
        assert!(lp.code.contains(&Op::LoadCapturedValue(0)));
    }

    #[test]
    fn named_lets_that_only_call_back_in_tail_position_are_loops() {
        let compiled = |text: &str| {
            let main = compile(text).unwrap();
            let f = &main.children[0];
            (f.children.len(), f.code.clone())
        };
        let (children, code) =
            compiled("(define (count n) (let loop ((i 0)) (if (< i n) (loop (+ i 1)) i)))");
        assert_eq!(children, 0);
        assert!(code.iter().any(|op| matches!(op, Op::Loop(_))));
        assert!(!code
            .iter()
            .any(|op| matches!(op, Op::Call(_) | Op::TailCall(_) | Op::MakeClosure(_))));
        // `do`, and a loop whose value is an operand.
        for text in [
            "(define (f v) (do ((i 0 (+ i 1))) ((= i 3) v) (vector-set! v i i)))",
            "(define (f) (+ 1 (let loop ((i 0)) (if (< i 5) (loop (+ i 1)) i))))",
            "(define (f) (let loop ((i 0)) (cond ((= i 4) 'done) (else (and #t (loop (+ i 1)))))))",
        ] {
            assert_eq!(compiled(text).0, 0, "{text}");
        }
        // Functions: a call not in tail position, the name as a value, a
        // call with another argument count, a call from a lambda, the name
        // bound again, and a body that reads a define not made yet (legal
        // in a function, which may run later).
        for text in [
            "(define (f n) (let loop ((i n)) (if (= i 0) 0 (+ 1 (loop (- i 1))))))",
            "(define (f n) (let loop ((i n)) (if (= i 0) loop (loop (- i 1)))))",
            "(define (f n) (let loop ((i n)) (if (= i 0) 0 (loop))))",
            "(define (f n) (let loop ((i n)) (if (= i 0) 0 ((lambda () (loop (- i 1)))))))",
            "(define (f n) (let loop ((loop n)) (loop 1)))",
            "(define (f n) (let loop ((i n)) (let ((loop 5)) (loop i))))",
            "(define (f) (define r (let loop ((i 0)) (if (< i 3) (loop (+ i 1)) (if #f (g) i))))
                         (define (g) 1)
                         r)",
        ] {
            assert!(compiled(text).0 >= 1, "{text}");
        }
    }

    #[test]
    fn locals_are_moved_at_their_last_use_in_tail_position() {
        let ops = |text: &str| compile(text).unwrap().children[0].code.clone();
        // Returned: moved.
        assert!(ops("(define (f x) x)").contains(&Op::TakeLocal(0)));
        // A tail call's arguments: each moved unless a later one reads it.
        let twice = ops("(define (f x) (g x x))");
        assert!(twice.contains(&Op::LoadLocal(0)) && twice.contains(&Op::TakeLocal(0)));
        let captured = ops("(define (f x) (g x (lambda () x)))");
        assert!(!captured.contains(&Op::TakeLocal(0)));
        // Not in tail position: copied.
        assert!(!ops("(define (f x) (g x) 1)").contains(&Op::TakeLocal(0)));
    }

    #[test]
    fn pair_operations_compile_inline() {
        let main = compile("(define (f p) (cons (car p) (null? (cdr (g)))))").unwrap();
        let code = &main.children[0].code;
        assert!(code.contains(&Op::UnaryLocal(Unary::Car, 0)));
        assert!(code.contains(&Op::Unary(Unary::Cdr)));
        assert!(code.contains(&Op::Unary(Unary::IsNull)));
        assert!(code.contains(&Op::Cons));
        assert_eq!(
            code.iter().filter(|op| matches!(op, Op::Call(_))).count(),
            1
        );
    }

    #[test]
    fn local_operands_are_read_in_place_only_where_that_is_safe() {
        let ops = |text: &str| compile(text).unwrap().children[0].code.clone();
        // Two reads of locals: one instruction, no push.
        let both = ops("(define (f a b) (* a b) a)");
        assert!(both.contains(&Op::BinaryLocals(Binary::Mul, 0, 1)));
        assert!(!both.contains(&Op::Binary(Binary::Mul)));
        // A local on the right, whatever is on the left.
        let right = ops("(define (f a b) (- (* a a) b) a)");
        assert!(right.contains(&Op::BinaryLocalRight(Binary::Sub, 1)));
        // A local on the left, a constant on the right: the constant is
        // pushed first, and the local read when the operation runs.
        let left = ops("(define (f xs) (nth xs 2) xs)");
        assert!(left.contains(&Op::BinaryLocalLeft(Binary::Index, 0)));
        // A right operand that computes and calls, but cannot write it.
        let computed = ops("(define (f e d) (- e (/ 1.0 (sqrt d))) e)");
        assert!(computed.contains(&Op::BinaryLocalLeft(Binary::Sub, 0)));
        // The list of a `set-nth!`, under the same rule.
        let store = ops("(define (f b i) (set-nth! b i (* (nth b i) 2)) b)");
        assert!(store.contains(&Op::StoreIndexLocal(Store::Nth, 0)));
        let moved = ops("(define (f b) (set-nth! b 0 (begin (set! b (list 1)) 2)) b)");
        assert!(moved.contains(&Op::StoreIndex(Store::Nth)));
        // A right operand that assigns the left local: the local is pushed
        // before the assignment runs, as written.
        let assigned = ops("(define (f a) (+ a (begin (set! a 10) 1)) a)");
        assert!(assigned.contains(&Op::Binary(Binary::Add)));
        assert!(!assigned
            .iter()
            .any(|op| matches!(op, Op::BinaryLocalLeft(..) | Op::BinaryLocals(..))));
    }

    #[test]
    fn statements_do_not_push_and_pop() {
        let main = compile("(define x 1) (set! x 2) x").unwrap();
        assert!(!main.code.contains(&Op::Pop));
    }
}
