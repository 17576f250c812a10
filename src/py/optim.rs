//! The fused optimizer step binding (`_core.optimizer_step`): one call updates every variable
//! and its slots in place (see `kernels::optim` for the rules).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use super::errors::guard;
use super::tensor::{run, PyTensor};
use crate::ops;

fn tensor_list(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<crate::tensor::Tensor>> {
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        let item = item?;
        let t = item.cast::<PyTensor>().map_err(|_| {
            PyTypeError::new_err(format!(
                "{what} must be a list of Tensors, got an item of type {}",
                item.get_type()
            ))
        })?;
        out.push(t.get().t.clone());
    }
    Ok(out)
}

/// One fused optimizer step over all variables (in place). `rule` is "sgd", "adam", "rmsprop",
/// "adagrad", "adadelta", "adamax", "nadam", "lion" or "ftrl"; `nadam_coefs` are Nadam's momentum
/// and gradient coefficients of this step; `ftrl` holds Ftrl's (learning_rate_power, l1, l2,
/// l2_shrinkage, beta).
#[pyfunction]
#[pyo3(signature = (rule, variables, grads, slots, learning_rate, t, weight_decay=0.0, momentum=0.0,
    nesterov=false, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=false, rho=0.9, centered=false,
    clipnorm=None, clipvalue=None, global_clipnorm=None, nadam_coefs=None, ftrl=None))]
#[allow(clippy::too_many_arguments)]
fn optimizer_step(
    py: Python<'_>,
    rule: &str,
    variables: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    slots: &Bound<'_, PyAny>,
    learning_rate: f64,
    t: u64,
    weight_decay: f64,
    momentum: f64,
    nesterov: bool,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
    amsgrad: bool,
    rho: f64,
    centered: bool,
    clipnorm: Option<f64>,
    clipvalue: Option<f64>,
    global_clipnorm: Option<f64>,
    nadam_coefs: Option<(f64, f64)>,
    ftrl: Option<(f64, f64, f64, f64, f64)>,
) -> PyResult<()> {
    guard("optimizer_step", || {
        use crate::kernels::optim::Rule;
        let rule = match rule {
            "sgd" => crate::kernels::optim::Rule::Sgd { momentum, nesterov },
            "adam" => crate::kernels::optim::Rule::Adam {
                beta_1,
                beta_2,
                epsilon,
                amsgrad,
            },
            "rmsprop" => crate::kernels::optim::Rule::RmsProp {
                rho,
                momentum,
                epsilon,
                centered,
            },
            "adagrad" => Rule::Adagrad { epsilon },
            "adadelta" => Rule::Adadelta { rho, epsilon },
            "adamax" => Rule::Adamax {
                beta_1,
                beta_2,
                epsilon,
            },
            "nadam" => {
                let (m_coef, g_coef) = nadam_coefs.ok_or_else(|| {
                    PyValueError::new_err("the nadam rule needs nadam_coefs=(m_coef, g_coef)")
                })?;
                Rule::Nadam {
                    beta_1,
                    beta_2,
                    epsilon,
                    m_coef,
                    g_coef,
                }
            }
            "lion" => Rule::Lion { beta_1, beta_2 },
            "lamb" => Rule::Lamb {
                beta_1,
                beta_2,
                epsilon,
            },
            "ftrl" => {
                let (lr_power, l1, l2, l2_shrinkage, beta) = ftrl.ok_or_else(|| {
                    PyValueError::new_err(
                        "the ftrl rule needs ftrl=(learning_rate_power, l1, l2, l2_shrinkage, beta)",
                    )
                })?;
                Rule::Ftrl {
                    lr_power,
                    l1,
                    l2,
                    l2_shrinkage,
                    beta,
                }
            }
            _ => {
                let known =
                    "sgd, adam, rmsprop, adagrad, adadelta, adamax, nadam, lion, ftrl or lamb";
                return Err(PyValueError::new_err(format!(
                    "unknown optimizer rule '{rule}'; expected {known}"
                )));
            }
        };
        let vs = tensor_list(variables, "variables")?;
        let gs = tensor_list(grads, "grads")?;
        let mut ss = Vec::new();
        for item in slots.try_iter()? {
            ss.push(tensor_list(&item?, "slots")?);
        }
        let clip = ops::Clip {
            norm: clipnorm,
            value: clipvalue,
            global_norm: global_clipnorm,
        };
        let work: usize = vs.iter().map(|v| v.numel()).sum();
        let cfg = ops::StepConfig {
            lr: learning_rate,
            weight_decay,
            t,
            clip,
        };
        run(py, work, || ops::optimizer_step(rule, cfg, &vs, &gs, &ss))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(optimizer_step, m)?)
}
